//! Training from a CSV file read a chunk at a time.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// Writes the first `rows` data rows of a CSV to `train`, the rest to `valid`, each with the
/// header.
fn split_csv(source: &Path, rows: usize, train: &Path, valid: &Path) {
    let text = std::fs::read_to_string(source).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let (first, rest) = lines.split_at(rows);
    for (path, part) in [(train, first), (valid, rest)] {
        std::fs::write(path, format!("{header}\n{}\n", part.join("\n"))).unwrap();
    }
}

fn summary(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

/// `[data] chunk_rows`: training from a file read a chunk at a time. Streamed logistic
/// regression learns as well as from the file loaded whole; a file that fits one chunk trains to
/// the same bytes as when loaded whole; a run interrupted mid-epoch resumes to the same bytes as
/// one never stopped; peak memory does not grow with the file; `kiln predict` streams large
/// files; mini-batch k-means streams too, and so do the fits made of sums over the rows
/// (closed-form least squares, L-BFGS, Lloyd), to the fit of the file loaded whole; models that
/// need every row at once are refused with the fix.
#[test]
fn streamed_training_from_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("all.csv"), 26_000, 32, 3, 21).unwrap();
    split_csv(
        &path("all.csv"),
        24_000,
        &path("train.csv"),
        &path("valid.csv"),
    );
    let write_config = |name: &str, train: &str, chunk_rows: Option<usize>| {
        let chunk = chunk_rows.map_or(String::new(), |c| format!("chunk_rows = {c}\n"));
        std::fs::write(
            path(name),
            format!(
                "[data]\ntrain = \"{train}\"\nvalid = \"valid.csv\"\ntarget = \"y\"\n{chunk}\
                 [model]\nkind = \"logistic_regression\"\n\
                 [train]\nepochs = 4\nbatch_size = 128\n\
                 optimizer = {{ kind = \"adam\", learning_rate = 0.01 }}\n"
            ),
        )
        .unwrap();
        path(name)
    };
    let train_run = |config: &Path, run: &str| {
        let out = path(run);
        kiln_ok(
            &[
                "train",
                config.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        out
    };
    let accuracy = |run: &Path| summary(run)["valid"]["accuracy"].as_f64().unwrap();

    // Eight chunks of 3,000 rows against the whole file.
    let resident = train_run(
        &write_config("resident.toml", "train.csv", None),
        "resident",
    );
    let streamed = train_run(
        &write_config("streamed.toml", "train.csv", Some(3_000)),
        "streamed",
    );
    let (a_resident, a_streamed) = (accuracy(&resident), accuracy(&streamed));
    assert!(a_resident > 0.8, "resident accuracy {a_resident}");
    assert!(
        (a_streamed - a_resident).abs() <= 0.01,
        "streamed {a_streamed} vs resident {a_resident}"
    );
    let train_metrics = &summary(&streamed)["train"];
    assert_eq!(summary(&streamed)["n_train"], 24_000);
    assert!(
        train_metrics["accuracy"].as_f64().unwrap() > 0.8
            && train_metrics["log_loss"].as_f64().unwrap() > 0.0,
        "{train_metrics}"
    );

    // One chunk holding the whole file: the same bytes as loading it whole.
    let one_chunk = train_run(
        &write_config("one-chunk.toml", "train.csv", Some(1_000_000)),
        "one-chunk",
    );
    assert_eq!(
        std::fs::read(one_chunk.join("model.bpk")).unwrap(),
        std::fs::read(resident.join("model.bpk")).unwrap()
    );
    assert_eq!(summary(&one_chunk)["train"], summary(&resident)["train"]);

    // Ctrl-C mid-epoch, then --resume: the chunks trained before the stop are skipped, and the
    // run ends with the uninterrupted run's bytes.
    let stopped = path("stopped");
    let streamed_config = path("streamed.toml");
    let args = [
        "train",
        streamed_config.to_str().unwrap(),
        "--out",
        stopped.to_str().unwrap(),
    ];
    let child = start_and_wait_for_epochs(kiln_binary(), &args, dir.path(), &stopped, 1);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kiln_ok(
        &["train", "--resume", stopped.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(
        std::fs::read(stopped.join("model.bpk")).unwrap(),
        std::fs::read(streamed.join("model.bpk")).unwrap()
    );
    assert_eq!(
        metrics_without_times(&stopped),
        metrics_without_times(&streamed)
    );

    // Eight times the rows (a 60 MB file, 25 MB as f32): peak memory stays where it was.
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("big.csv"), 192_000, 32, 3, 21).unwrap();
    let big = train_run(&write_config("big.toml", "big.csv", Some(3_000)), "big");
    let rss = |run: &Path| summary(run)["peak_rss_bytes"].as_f64().unwrap() / 1e6;
    let (small_rss, big_rss) = (rss(&streamed), rss(&big));
    assert!(
        big_rss < small_rss + 8.0,
        "peak RSS {big_rss:.1} MB on 192,000 rows vs {small_rss:.1} MB on 24,000"
    );
    assert_eq!(summary(&big)["n_train"], 192_000);
    // `kiln predict` goes through a file a chunk of 65,536 rows at a time too: one header,
    // one line per row, and the rows of a later chunk predicted as a file of their own is.
    let predictions = |data: &Path, out: &str| {
        kiln_ok(
            &[
                "predict",
                "--model",
                big.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--out",
                path(out).to_str().unwrap(),
            ],
            dir.path(),
        );
        std::fs::read_to_string(path(out)).unwrap()
    };
    let all = predictions(&path("big.csv"), "big-predictions.csv");
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 192_001);
    assert!(lines[0].starts_with("prediction,proba_"), "{}", lines[0]);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("prediction")).count(),
        1
    );
    let text = std::fs::read_to_string(path("big.csv")).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    std::fs::write(
        path("tail.csv"),
        format!("{}\n{}\n", rows[0], rows[150_001..].join("\n")),
    )
    .unwrap();
    let tail = predictions(&path("tail.csv"), "tail-predictions.csv");
    assert_eq!(tail.lines().skip(1).collect::<Vec<_>>(), lines[150_001..]);

    // Mini-batch k-means from chunks of 5,000 rows finds all eight blobs.
    kiln_model_zoo::synthetic::write_blobs_csv(&path("blobs.csv"), 40_000, 10, 8, 1.0, 3).unwrap();
    let kmeans = |name: &str, model: &str| {
        std::fs::write(
            path(name),
            format!(
                "[data]\ntrain = \"blobs.csv\"\ntarget = \"y\"\nstandardize = false\n\
                 chunk_rows = 5000\n[model]\n{model}\n[train]\nepochs = 50\n"
            ),
        )
        .unwrap();
        path(name)
    };
    let clusters = train_run(
        &kmeans(
            "kmeans.toml",
            "kind = \"kmeans\"\nk = 8\nn_init = 3\nbatch_size = 1024",
        ),
        "kmeans",
    );
    assert!(summary(&clusters)["train"]["inertia"].as_f64().unwrap() > 0.0);
    let metrics = eval_json(&clusters, &path("blobs.csv"), dir.path());
    assert_eq!(metrics["adjusted_rand_index"], 1.0, "{metrics}");

    // Metrics over a streamed file, merged chunk by chunk, equal those of the file read whole
    // (`kiln eval`), r2 included.
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("values.csv"), 20_000, 8, 0, 4).unwrap();
    std::fs::write(
        path("sgd.toml"),
        "[data]\ntrain = \"values.csv\"\ntarget = \"y\"\nchunk_rows = 3000\n\
         [model]\nkind = \"linear_regression\"\nsolver = \"sgd\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let sgd = train_run(&path("sgd.toml"), "sgd");
    let whole = eval_json(&sgd, &path("values.csv"), dir.path());
    let streamed = &summary(&sgd)["train"];
    for metric in ["mse", "mae", "r2"] {
        let (a, b) = (
            streamed[metric].as_f64().unwrap(),
            whole[metric].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{metric}: {a} vs {b}"
        );
    }
    assert!(whole["r2"].as_f64().unwrap() > 0.9, "{whole}");

    // A GLM's target check runs on every chunk: a negative count in the third chunk is named
    // by its file line.
    let mut counts = String::from("x,y\n");
    for i in 0..3_000 {
        let y = if i == 2_500 { -1 } else { i % 4 };
        counts.push_str(&format!("{},{y}\n", i as f32 / 3_000.0));
    }
    std::fs::write(path("counts.csv"), counts).unwrap();
    std::fs::write(
        path("poisson.toml"),
        "[data]\ntrain = \"counts.csv\"\ntarget = \"y\"\nchunk_rows = 1000\n\
         [model]\nkind = \"glm\"\nfamily = \"poisson\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let line = kiln_error(
        &["train", path("poisson.toml").to_str().unwrap()],
        dir.path(),
    );
    assert!(
        line.contains("target `y` is -1, but this GLM family needs targets >= 0")
            && line.contains("counts.csv:2502;"),
        "{line}"
    );

    // Fits whose steps are sums over the rows (statistics, then an update) stream too, and
    // from 4 to 8 chunks reach the fit of the file loaded whole: closed-form least squares
    // (XᵀX), logistic regression by L-BFGS (the loss and its gradient), Lloyd's k-means
    // (cluster sums and counts; seeded from the first chunk).
    let both = |name: &str, train: &str, chunk_rows: usize, keys: &str| {
        let config = |suffix: &str, chunk: String| {
            let file = format!("{name}-{suffix}.toml");
            std::fs::write(
                path(&file),
                format!(
                    "[data]\ntrain = \"{train}\"\ntarget = \"y\"\nvalid_fraction = 0\n{chunk}\
                     [model]\n{keys}\n[train]\nepochs = 300\n"
                ),
            )
            .unwrap();
            train_run(&path(&file), &format!("{name}-{suffix}"))
        };
        let streamed = config("streamed", format!("chunk_rows = {chunk_rows}\n"));
        let resident = config("resident", String::new());
        let data = path(train);
        (
            eval_json(&streamed, &data, dir.path()),
            eval_json(&resident, &data, dir.path()),
        )
    };
    let close = |what: &str, a: &serde_json::Value, b: &serde_json::Value, key: &str, tol: f64| {
        let (a, b) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
        assert!(
            (a - b).abs() <= tol * b.abs().max(1e-9),
            "{what} {key}: streamed {a} vs resident {b}"
        );
    };
    let (streamed, resident) = both("ols", "values.csv", 3_000, "kind = \"linear_regression\"");
    close("OLS", &streamed, &resident, "mse", 1e-5);
    let (streamed, resident) = both(
        "lbfgs",
        "train.csv",
        3_000,
        "kind = \"logistic_regression\"\nsolver = \"lbfgs\"",
    );
    close("L-BFGS", &streamed, &resident, "log_loss", 1e-4);
    close("L-BFGS", &streamed, &resident, "accuracy", 1e-3);
    let (streamed, resident) = both(
        "lloyd",
        "blobs.csv",
        10_000,
        "kind = \"kmeans\"\nk = 8\nn_init = 3",
    );
    assert_eq!(streamed["adjusted_rand_index"], 1.0, "{streamed}");
    close("Lloyd", &streamed, &resident, "inertia", 1e-4);

    // What cannot stream says why and what to do.
    let config = kmeans("gmm.toml", "kind = \"gmm\"\nk = 8");
    let line = kiln_error(&["train", config.to_str().unwrap()], dir.path());
    assert!(
        line.contains("needs all its rows at once")
            && line.contains("gmm.toml:5")
            && line.contains("remove `chunk_rows`"),
        "{line}"
    );
    let line = kiln_error(
        &[
            "train",
            path("kmeans.toml").to_str().unwrap(),
            "--set",
            "data.valid_fraction=0.2",
        ],
        dir.path(),
    );
    assert!(
        line.contains("cannot hold out a fraction") && line.contains("valid = "),
        "{line}"
    );
}
