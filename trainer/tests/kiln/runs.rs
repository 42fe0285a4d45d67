//! Run directories written before the framework redesign still load: `eval`, `predict` and
//! `export` read them, and `--resume` continues one to the bytes a run never stopped ends with.

use std::path::Path;

use crate::common::*;

/// Copies the fixture run (see fixtures/README.md) into `dir/name`, its data path pointing at
/// the repository's iris.csv.
fn old_run(dir: &Path, name: &str) -> std::path::PathBuf {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kiln/fixtures/iris-logistic-e1ba961");
    let run = dir.join(name);
    std::fs::create_dir_all(&run).unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), run.join(entry.file_name())).unwrap();
    }
    let config = run.join("config.toml");
    let iris = repo().join("examples/data/iris.csv");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("IRIS_CSV", iris.to_str().unwrap());
    std::fs::write(&config, text).unwrap();
    run
}

#[test]
fn runs_from_before_the_redesign_load_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_run(dir.path(), "old");
    // The same config trained today: the refactor kept the model's bytes.
    let new = dir.path().join("new");
    kiln_ok(
        &[
            "train",
            config("iris-logistic.toml").to_str().unwrap(),
            "--backend",
            "flex",
            "--out",
            new.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(
        std::fs::read(old.join("model.bpk")).unwrap(),
        std::fs::read(new.join("model.bpk")).unwrap(),
        "today's kiln trains iris-logistic.toml to other weights than commit e1ba961"
    );
    let iris = repo().join("examples/data/iris.csv");
    assert_eq!(
        eval_json(&old, &iris, dir.path()),
        eval_json(&new, &iris, dir.path())
    );
    let predict = |run: &Path| {
        kiln_ok(
            &[
                "predict",
                "--model",
                run.to_str().unwrap(),
                "--data",
                iris.to_str().unwrap(),
            ],
            dir.path(),
        )
        .stdout
    };
    assert_eq!(predict(&old), predict(&new));
    let export = dir.path().join("old.kiln");
    kiln_ok(
        &[
            "export",
            "--model",
            old.to_str().unwrap(),
            "--out",
            export.to_str().unwrap(),
        ],
        dir.path(),
    );

    // The old run's checkpoint, continued for two more epochs, ends where a fresh run of 202
    // epochs does (a constant schedule: the first 200 epochs are the same). Its config loses its
    // `solver`, as one written before the key existed: it resumes by SGD, as it was trained,
    // though the default is L-BFGS now.
    let partial = dir.path().join("stopped.partial");
    std::fs::rename(old_run(dir.path(), "stopped-copy"), &partial).unwrap();
    let resolved = partial.join("config.toml");
    let text = std::fs::read_to_string(&resolved).unwrap();
    assert!(text.contains("solver = \"sgd\"\n"), "{text}");
    std::fs::write(&resolved, text.replace("solver = \"sgd\"\n", "")).unwrap();
    std::fs::remove_file(partial.join("summary.json")).unwrap();
    let stopped = dir.path().join("stopped");
    kiln_ok(
        &[
            "train",
            "--resume",
            stopped.to_str().unwrap(),
            "--set",
            "train.epochs=202",
        ],
        dir.path(),
    );
    let longer = dir.path().join("longer");
    kiln_ok(
        &[
            "train",
            config("iris-logistic.toml").to_str().unwrap(),
            "--out",
            longer.to_str().unwrap(),
            "--set",
            "train.epochs=202",
        ],
        dir.path(),
    );
    assert_eq!(
        std::fs::read(stopped.join("model.bpk")).unwrap(),
        std::fs::read(longer.join("model.bpk")).unwrap()
    );
    assert_eq!(
        metrics_without_times(&stopped),
        metrics_without_times(&longer)
    );
}
