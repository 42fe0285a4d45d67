//! Runs killed or interrupted mid-epoch resume to the same bytes as runs never stopped.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// A run killed with SIGKILL in the middle of training, or stopped by Ctrl-C (SIGINT) in the
/// middle of an epoch, and then resumed, ends with the same weights, byte for byte, and the
/// same metrics as a run never stopped (same seed, same backend). The MLP config has dropout,
/// a cosine schedule with warm-up and early-stopping state: all of it must survive.
#[test]
fn killed_or_interrupted_runs_resume_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("digits-mlp.toml");
    let cfg = cfg.to_str().unwrap();
    let run = |name: &str| dir.path().join(name);
    let args = |out: &Path| -> Vec<String> {
        ["train", cfg, "--out", out.to_str().unwrap()]
            .into_iter()
            .map(String::from)
            .chain(
                [
                    "--set",
                    "train.epochs=20",
                    "--set",
                    "train.checkpoint_every=1",
                ]
                .map(String::from),
            )
            .collect()
    };

    let whole = run("whole");
    kiln_ok(&as_str(&args(&whole)), dir.path());
    let want_model = std::fs::read(whole.join("model.bpk")).unwrap();
    let want_metrics = metrics_without_times(&whole);
    assert_eq!(want_metrics.len(), 20);

    // SIGKILL: the process dies at once, wherever it is.
    let killed = run("killed");
    let mut child = start_and_wait_for_epochs(
        kiln_binary(),
        &as_str(&args(&killed)),
        dir.path(),
        &killed,
        3,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.exists());
    assert!(run("killed.partial").join("checkpoint.kiln").is_file());
    kiln_ok(&["train", "--resume", killed.to_str().unwrap()], dir.path());

    // SIGINT: kiln stops after the current step (mid-epoch), writes a checkpoint, exits 130.
    // Named as `kiln train` names runs by default (runs/<config name>), for `--resume` alone.
    let stopped = run("runs/digits-mlp");
    let child = start_and_wait_for_epochs(
        kiln_binary(),
        &as_str(&args(&stopped)),
        dir.path(),
        &stopped,
        2,
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted at epoch") && stderr.contains("kiln train --resume"),
        "{stderr}"
    );
    // `--resume` alone finds the latest stopped run of the config under runs/.
    kiln_ok(&["train", cfg, "--resume"], dir.path());

    for resumed in [killed, stopped] {
        assert_eq!(
            std::fs::read(resumed.join("model.bpk")).unwrap(),
            want_model,
            "{}: weights differ from the uninterrupted run",
            resumed.display()
        );
        assert_eq!(metrics_without_times(&resumed), want_metrics);
        assert!(!PathBuf::from(format!("{}.partial", resumed.display())).exists());
        assert!(resumed.join("training.png").is_file());
    }
    let line = kiln_error(&["train", "--resume", whole.to_str().unwrap()], dir.path());
    assert!(line.contains("this run is complete"), "{line}");
}
