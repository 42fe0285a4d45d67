//! kiln never loses data: outputs are written whole or not at all, an output that is an input
//! is refused, damaged artefacts are refused, a run directory has one writer, and a resume
//! refuses what would mix two runs.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// Entries of `dir` whose names start with a dot (kiln's temporary files and locks).
fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect()
}

#[test]
fn outputs_are_written_whole_and_never_over_an_input() {
    let dir = workspace(&[("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)]);
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    assert!(
        hidden_files(&dir.path().join("run")).is_empty(),
        "a lock or temporary was left in the run"
    );

    // --out the input: refused, the input intact.
    let line = kiln_error(
        &[
            "predict", "--model", "run", "--data", "d.csv", "--out", "d.csv",
        ],
        dir.path(),
    );
    assert!(
        line.contains("is the input d.csv: writing it would destroy it"),
        "{line}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("d.csv")).unwrap(),
        GOOD_DATA
    );
    let line = kiln_error(
        &[
            "predict", "--model", "run", "--data", "d.csv", "--out", "./d.csv",
        ],
        dir.path(),
    );
    assert!(line.contains("writing it would destroy it"), "{line}");
    let line = kiln_error(&["export", "--model", "run", "--out", "run"], dir.path());
    assert!(line.contains("is a directory"), "{line}");

    // A predict that fails at a bad row past the first 65,536 leaves an existing file as it was.
    let mut big = String::from("a,b\n");
    for i in 0..70_000 {
        big.push_str(if i == 69_000 { "1,oops\n" } else { "1,2\n" });
    }
    std::fs::write(dir.path().join("big.csv"), big).unwrap();
    std::fs::write(dir.path().join("out.csv"), "keep me\n").unwrap();
    let line = kiln_error(
        &[
            "predict", "--model", "run", "--data", "big.csv", "--out", "out.csv",
        ],
        dir.path(),
    );
    assert!(line.contains("big.csv:69002"), "{line}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "keep me\n"
    );
    assert!(
        hidden_files(dir.path()).is_empty(),
        "temporary files were left: {:?}",
        hidden_files(dir.path())
    );
    // A good predict replaces it whole.
    kiln_ok(
        &[
            "predict", "--model", "run", "--data", "d.csv", "--out", "out.csv",
        ],
        dir.path(),
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv"))
            .unwrap()
            .lines()
            .count(),
        9
    );

    // `kiln predict | head -1` stops quietly.
    let mut child = Command::new(kiln_binary())
        .args(["predict", "--model", "run", "--data", "big.csv"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );

    // An --out that names a file is not taken for a directory.
    let line = kiln_error(&["train", "c.toml", "--out", "d.csv"], dir.path());
    assert!(
        line.contains("the output names a file, not a directory"),
        "{line}"
    );
}

#[test]
fn damaged_weights_checkpoints_and_exports_are_refused() {
    let dir = workspace(&[("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)]);
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    kiln_ok(&["export", "--model", "run", "--out", "m.kiln"], dir.path());
    // 100 bytes of the weights overwritten.
    let weights = dir.path().join("run/model.bpk");
    let mut bytes = std::fs::read(&weights).unwrap();
    let at = bytes.len() - 120;
    bytes[at..at + 100].fill(0x7f);
    std::fs::write(&weights, bytes).unwrap();
    for args in [
        &["eval", "--model", "run", "--data", "d.csv"][..],
        &["predict", "--model", "run", "--data", "d.csv"],
        &["export", "--model", "run", "--out", "again.kiln"],
    ] {
        let line = kiln_error(args, dir.path());
        assert!(
            line.contains("model.bpk is damaged: its checksum"),
            "{args:?}: {line}"
        );
    }
    assert!(!dir.path().join("again.kiln").exists());

    // A flipped byte in a stopped run's checkpoint: its resume is refused.
    let partial = dir.path().join("stopped.partial");
    std::fs::rename(dir.path().join("run"), &partial).unwrap();
    std::fs::remove_file(partial.join("summary.json")).unwrap();
    let checkpoint = partial.join("checkpoint.kiln");
    let mut bytes = std::fs::read(&checkpoint).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&checkpoint, bytes).unwrap();
    let line = kiln_error(&["train", "--resume", "stopped"], dir.path());
    assert!(
        line.contains("checkpoint is damaged") && line.contains("checksum does not match"),
        "{line}"
    );
}

/// A second writer of a run directory, or a `--resume` of a run still training, is refused
/// with the process that holds it; once that process is gone the run resumes.
#[test]
fn a_run_directory_has_one_writer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("digits-mlp.toml");
    let cfg = cfg.to_str().unwrap();
    let run = dir.path().join("run");
    let args = [
        "train",
        cfg,
        "--out",
        run.to_str().unwrap(),
        "--set",
        "train.epochs=200",
        // A checkpoint every epoch, and no early end: the run is still going, with a
        // checkpoint to resume from, when it is killed below.
        "--set",
        "train.checkpoint_every=1",
        "--set",
        "train.early_stopping.patience=1000",
    ];
    let mut first = start_and_wait_for_epochs(kiln_binary(), &args, dir.path(), &run, 1);
    let checkpoint = std::path::PathBuf::from(format!("{}.partial/checkpoint.kiln", run.display()));
    while !checkpoint.is_file() {
        assert!(first.try_wait().unwrap().is_none(), "kiln ended early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let line = kiln_error(&args, dir.path());
    assert!(
        line.contains(&format!(
            "another kiln (pid {}) is writing this run right now",
            first.id()
        )),
        "{line}"
    );
    let line = kiln_error(&["train", "--resume", run.to_str().unwrap()], dir.path());
    assert!(line.contains("is writing this run right now"), "{line}");
    first.kill().unwrap();
    first.wait().unwrap();
    // The stopped run goes on, now that nobody holds it.
    let mut resumed = start_and_wait_for_epochs(
        kiln_binary(),
        &[
            "train",
            "--resume",
            run.to_str().unwrap(),
            "--set",
            "train.epochs=200",
        ],
        dir.path(),
        &run,
        2,
    );
    resumed.kill().unwrap();
    resumed.wait().unwrap();
}

/// A resume refuses a change to the model, the data or the seed (from an edited config or a
/// `--set`), records the `[train]` changes it applies, and warns when the data file changed.
#[test]
fn a_resume_refuses_changes_that_would_mix_two_runs() {
    let dir = workspace(&[
        ("c.toml", &GOOD_CONFIG.replace("epochs = 2", "epochs = 3")),
        ("d.csv", GOOD_DATA),
    ]);
    // A stopped run: a finished one with its summary removed.
    kiln_ok(&["train", "c.toml", "--out", "runs/c"], dir.path());
    std::fs::rename(dir.path().join("runs/c"), dir.path().join("runs/c.partial")).unwrap();
    std::fs::remove_file(dir.path().join("runs/c.partial/summary.json")).unwrap();

    let line = kiln_error(
        &["train", "c.toml", "--resume", "--set", "model.l2=5"],
        dir.path(),
    );
    assert!(
        line.contains("a resumed run keeps its model, data and seed"),
        "{line}"
    );
    let edited = GOOD_CONFIG.replace("epochs = 2", "epochs = 3").replace(
        "kind = \"logistic_regression\"",
        "kind = \"logistic_regression\"\nl2 = 4.0",
    );
    std::fs::write(dir.path().join("c.toml"), &edited).unwrap();
    let line = kiln_error(&["train", "c.toml", "--resume"], dir.path());
    assert!(
        line.contains("`[model]` changed since the stopped run started"),
        "{line}"
    );
    std::fs::write(
        dir.path().join("c.toml"),
        GOOD_CONFIG
            .replace("epochs = 2", "epochs = 3")
            .replace("0.25", "0.5"),
    )
    .unwrap();
    let line = kiln_error(&["train", "c.toml", "--resume"], dir.path());
    assert!(line.contains("`data.valid_fraction` changed"), "{line}");
    std::fs::write(
        dir.path().join("c.toml"),
        GOOD_CONFIG.replace("epochs = 2", "epochs = 3"),
    )
    .unwrap();

    // The data file changed: a warning, and the run goes on; the applied `--set` is recorded.
    std::fs::write(dir.path().join("d.csv"), format!("{GOOD_DATA}9,1,x\n")).unwrap();
    let out = kiln(
        &["train", "c.toml", "--resume", "--set", "train.epochs=5"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("changed since the run started"),
        "{stderr}"
    );
    let recorded = std::fs::read_to_string(dir.path().join("runs/c/config.toml")).unwrap();
    assert!(recorded.contains("epochs = 5"), "{recorded}");
    assert_eq!(metrics_without_times(&dir.path().join("runs/c")).len(), 5);
}

#[test]
fn a_file_separated_by_semicolons_is_read_as_such() {
    let semicolons = GOOD_DATA.replace(',', ";");
    let dir = workspace(&[("c.toml", GOOD_CONFIG), ("d.csv", &semicolons)]);
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    let metrics = eval_json(
        &dir.path().join("run"),
        &dir.path().join("d.csv"),
        dir.path(),
    );
    assert_eq!(metrics["rows"], 8.0);
    // Said outright, it wins over the header's guess.
    let dir = workspace(&[
        (
            "c.toml",
            &GOOD_CONFIG.replace(
                "valid_fraction = 0.25",
                "valid_fraction = 0.25\ndelimiter = \"|\"",
            ),
        ),
        ("d.csv", &GOOD_DATA.replace(',', "|")),
    ]);
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
}

#[test]
fn unusable_arguments_are_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["train"][..],
        &["predict", "--model", "x"],
        &["frobnicate"],
    ] {
        let out = kiln(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains("kiln --help"),
            "{stderr}"
        );
    }
    let help = kiln_ok(&["--help"], dir.path());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes: 0 done; 1 an error"));
}
