//! Model selection: `kiln cv` (k-fold cross-validation) and `kiln search` (grid and random
//! search over config keys, each trial cross-validated, the best refitted).

use crate::common::*;

/// `kiln cv`: stratified, seeded folds; each fold's encoding, scaling and model fitted on its
/// training rows; the mean accuracy of scikit-learn's 5-fold cross-validation, within a point.
///
/// Reference (scikit-learn 1.9.1; its folds are not kiln's, so the means differ by the folds):
/// ```text
/// d = pd.read_csv("examples/data/breast-cancer.csv"); y = d.pop("diagnosis")
/// cross_validate(make_pipeline(StandardScaler(), LogisticRegression(C=1.0)), d, y,
///                cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="accuracy")
/// # test_score mean 0.978916, std 0.014245 (random_state 1 and 2: 0.978932)
/// ```
#[test]
fn cross_validation_matches_scikit_learns_and_refuses_impossible_folds() {
    let dir = tempfile::tempdir().unwrap();
    let config = config("breast-cancer-logistic.toml");
    let config = config.to_str().unwrap();
    let cv = |out: &str| -> serde_json::Value {
        let stdout = kiln_ok(&["cv", config, "--folds", "5", "--out", out], dir.path()).stdout;
        assert!(String::from_utf8_lossy(&stdout).contains("accuracy"));
        let text = std::fs::read_to_string(dir.path().join(out).join("cv.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let first = cv("cv");
    let folds = first["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 5);
    // The config holds out 25% (142 rows) for validation: the folds share the other 427.
    let tested: u64 = folds.iter().map(|f| f["n_test"].as_u64().unwrap()).sum();
    assert_eq!(tested, 427, "every training row scored once");
    for fold in folds {
        assert_eq!(
            fold["n_train"].as_u64().unwrap() + fold["n_test"].as_u64().unwrap(),
            427
        );
    }
    let accuracy = first["mean"]["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - 0.978_916).abs() <= 0.01,
        "mean accuracy {accuracy}"
    );
    assert!(dir.path().join("cv").join("config.toml").is_file());
    assert_eq!(cv("again"), first, "seeded: the same folds and fits");

    // A raw table: the penguins encoding is fitted per fold.
    let penguins = self::config("penguins-logistic.toml");
    kiln_ok(
        &[
            "cv",
            penguins.to_str().unwrap(),
            "--folds",
            "3",
            "--out",
            "penguins",
        ],
        dir.path(),
    );

    // Early stopping watches validation rows drawn from each fold's training rows, as `kiln
    // train` watches its split (without them it would keep the first epoch's weights). For
    // reference, scikit-learn 1.9.1's MLPClassifier((128, 64)) in a StandardScaler pipeline,
    // cross_val_score on all 1,797 rows with StratifiedKFold(4, shuffle=True): 0.979.
    let mlp = self::config("digits-mlp.toml");
    let stdout = kiln_ok(
        &["cv", mlp.to_str().unwrap(), "--folds", "4", "--out", "mlp"],
        dir.path(),
    )
    .stdout;
    let text = std::fs::read_to_string(dir.path().join("mlp/cv.json")).unwrap();
    let mlp: serde_json::Value = serde_json::from_str(&text).unwrap();
    let accuracy = mlp["mean"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "{}", String::from_utf8_lossy(&stdout));

    let line = kiln_error(&["cv", config, "--folds", "600", "--out", "x"], dir.path());
    assert!(line.contains("use at most 427 folds"), "{line}");
    let line = kiln_error(&["cv", config, "--folds", "1", "--out", "x"], dir.path());
    assert!(line.contains("use at least 2"), "{line}");
    assert!(!dir.path().join("x").exists());
}

/// `kiln search` over `C` (`l2 = 1/C`) for logistic regression on breast cancer: every trial
/// cross-validated on the training rows, the best by mean accuracy refitted, `best.toml`
/// training that same model; then a stopped search resumes with the trials it finished, and
/// a changed search refuses to resume. (`python3 benches/peers/search_reference.py` compares
/// the test accuracy with scikit-learn's GridSearchCV on one split: both 0.958042.)
#[test]
fn search_picks_the_best_cross_validated_trial_refits_it_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config("breast-cancer-logistic.toml");
    let config = config.to_str().unwrap();
    let read_json = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).unwrap()).unwrap()
    };
    let out = kiln_ok(&["search", config, "--out", "s"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("5/5") && stdout.contains("best of 5 trials"),
        "{stdout}"
    );
    let search = read_json("s/search.json");
    assert_eq!(search["metric"], "accuracy");
    let trials = std::fs::read_to_string(dir.path().join("s/trials.jsonl")).unwrap();
    let accuracies: Vec<f64> = trials
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["mean"]["accuracy"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(accuracies.len(), 5);
    let top = accuracies.iter().cloned().fold(f64::MIN, f64::max);
    let best_trial = search["best"]["trial"].as_u64().unwrap() as usize;
    assert_eq!(
        accuracies[best_trial - 1],
        top,
        "the best trial has the best mean"
    );
    assert!(top >= 0.97, "cross-validated accuracy {top}");
    // best.toml is a config `kiln train` takes, with the best value, without `[search]`, and
    // training it gives the refitted run's model.
    let best = std::fs::read_to_string(dir.path().join("s/best.toml")).unwrap();
    assert!(!best.contains("[search]"), "{best}");
    let l2 = search["best"]["values"]["model.l2"].as_f64().unwrap();
    assert!(best.contains(&format!("l2 = {l2:?}")), "{best}");
    kiln_ok(&["train", "s/best.toml", "--out", "again"], dir.path());
    assert_eq!(
        std::fs::read(dir.path().join("again/model.bpk")).unwrap(),
        std::fs::read(dir.path().join("s/best/model.bpk")).unwrap()
    );
    let refit = read_json("s/best/summary.json");
    assert!(
        refit["valid"]["accuracy"].as_f64().unwrap() >= 0.95,
        "{refit}"
    );

    // Stopped after two trials (and a third line torn by a kill): resumes with trial 3.
    let two: Vec<&str> = trials.lines().take(2).collect();
    std::fs::create_dir_all(dir.path().join("t.partial")).unwrap();
    std::fs::write(
        dir.path().join("t.partial/trials.jsonl"),
        two.join("\n") + "\n{\"trial\": 3, \"val",
    )
    .unwrap();
    let out = kiln_ok(&["search", config, "--resume", "--out", "t"], dir.path());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("resuming: 2 of 5 trials done"), "{stderr}");
    assert!(
        !stdout.contains("1/5") && stdout.contains("3/5"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("t/trials.jsonl")).unwrap(),
        trials,
        "the resumed search ends with the uninterrupted one's trials"
    );

    // A search other than the stopped one (here scored on 3 folds) is not resumed.
    std::fs::create_dir_all(dir.path().join("u.partial")).unwrap();
    std::fs::write(
        dir.path().join("u.partial/trials.jsonl"),
        two.join("\n") + "\n",
    )
    .unwrap();
    std::fs::copy(
        dir.path().join("s/space.json"),
        dir.path().join("u.partial/space.json"),
    )
    .unwrap();
    let line = kiln_error(
        &[
            "search",
            config,
            "--resume",
            "--out",
            "u",
            "--set",
            "search.folds=3",
        ],
        dir.path(),
    );
    assert!(line.contains("resuming would mix two searches"), "{line}");
}

/// Bad `[search]` tables are one line naming the key and the fix.
#[test]
fn bad_search_tables_are_one_line_errors() {
    let data = repo().join("examples/data/iris.csv");
    let base = format!(
        "[data]\ntrain = \"{}\"\ntarget = \"species\"\n[model]\nkind = \"logistic_regression\"\n",
        data.display()
    );
    let cases = [
        ("", "no `[search]` table"),
        ("[search]\nl2 = [1.0]\n", "is not a config key"),
        (
            "[search]\n\"model.l2\" = { log_uniform = [0.1, 10.0] }\n",
            "needs `trials = N`",
        ),
        (
            "[search]\n\"model.l2\" = [1.0]\nmetric = \"r2\"\n",
            "not a metric this model reports",
        ),
        ("[search]\n\"model.l22\" = [1.0]\n", "l22"),
        (
            "[search]\n\"model.l2\" = { normal = [0.0, 1.0] }\n",
            "expected a list of values, or `{ uniform",
        ),
    ];
    for (search, needle) in cases {
        let dir = workspace(&[("c.toml", &format!("{base}{search}"))]);
        let line = kiln_error(&["search", "c.toml", "--out", "s"], dir.path());
        assert!(line.contains(needle), "{search}: `{needle}` not in {line}");
        assert!(!dir.path().join("s").exists());
    }
}
