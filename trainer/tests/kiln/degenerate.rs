//! Degenerate data never panics: every model kind, on one row, two rows, one class, one
//! feature, constant columns, identical rows, and more clusters than rows, either trains or
//! stops with one error line (exit code 1).

use std::path::Path;

use crate::common::*;

/// Data sets as CSV text: features `a`, `b` (or `a` alone) and target `y` (0/1, read as
/// labels by classifiers and clusterings, as numbers by regressions).
fn data_sets() -> Vec<(&'static str, String)> {
    let rows = |n: usize, row: &dyn Fn(usize) -> String| -> String {
        std::iter::once("a,b,y".to_owned())
            .chain((0..n).map(row))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    vec![
        ("one-row", rows(1, &|_| "1,2,1".into())),
        ("two-rows", rows(2, &|i| format!("{i},{},{i}", 2 * i))),
        ("one-class", rows(12, &|i| format!("{i},{},1", i % 3))),
        ("constant-columns", rows(12, &|i| format!("5,5,{}", i % 2))),
        ("identical-rows", rows(12, &|_| "1,2,1".into())),
        (
            "one-feature",
            std::iter::once("a,y".to_owned())
                .chain((0..12).map(|i| format!("{i},{}", i % 2)))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n",
        ),
    ]
}

/// `[model]` tables of every kind, with the options that change how it fits.
const MODELS: [&str; 17] = [
    "kind = \"linear_regression\"",
    "kind = \"linear_regression\"\nsolver = \"sgd\"",
    "kind = \"logistic_regression\"",
    "kind = \"logistic_regression\"\nsolver = \"lbfgs\"",
    "kind = \"kmeans\"\nk = 1",
    "kind = \"kmeans\"\nk = 3",
    "kind = \"kmeans\"\nk = 1\nbatch_size = 4",
    "kind = \"kmeans\"\nk = 20",
    "kind = \"mlp\"\nhidden = [4]",
    "kind = \"mlp\"\nhidden = [4]\ntask = \"regression\"",
    "kind = \"linear_svm\"",
    "kind = \"glm\"",
    "kind = \"gmm\"\nk = 1",
    "kind = \"gmm\"\nk = 2\ncovariance_type = \"diag\"",
    "kind = \"kernel_svm\"",
    "kind = \"gaussian_process\"",
    "kind = \"gmm\"\nk = 20",
];

#[test]
fn degenerate_data_trains_or_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for (name, csv) in data_sets() {
        std::fs::write(dir.path().join(format!("{name}.csv")), csv).unwrap();
        for (m, model) in MODELS.iter().enumerate() {
            for valid_fraction in ["0", "0.2"] {
                let config = dir.path().join(format!("{name}-{m}-{valid_fraction}.toml"));
                std::fs::write(
                    &config,
                    format!(
                        "[data]\ntrain = \"{name}.csv\"\ntarget = \"y\"\n\
                         valid_fraction = {valid_fraction}\n[model]\n{model}\n\
                         [train]\nepochs = 3\nbatch_size = 4\n"
                    ),
                )
                .unwrap();
                let out = dir.path().join(format!("run-{name}-{m}-{valid_fraction}"));
                let result = kiln(
                    &[
                        "train",
                        config.to_str().unwrap(),
                        "--out",
                        out.to_str().unwrap(),
                    ],
                    dir.path(),
                );
                let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
                let what = format!(
                    "{name} with [{}], valid_fraction {valid_fraction}",
                    model.replace('\n', "; ")
                );
                if stderr.contains("panicked") {
                    let at = stderr
                        .lines()
                        .find(|l| l.contains("panicked at"))
                        .unwrap_or_default();
                    let why = stderr
                        .lines()
                        .skip_while(|l| !l.contains("panicked at"))
                        .nth(1)
                        .unwrap_or_default();
                    failures.push(format!("{what}: {at} {why}"));
                    continue;
                }
                match result.status.code() {
                    Some(0) => assert!(out.join("summary.json").is_file(), "{what}"),
                    Some(1) => {
                        let lines: Vec<&str> = stderr
                            .lines()
                            .filter(|l| !l.starts_with("epoch ") && !l.contains("XDG_RUNTIME_DIR"))
                            .collect();
                        assert_eq!(lines.len(), 1, "{what}: {stderr}");
                        assert!(lines[0].starts_with("error: "), "{what}: {stderr}");
                        assert!(
                            !out.exists()
                                && !Path::new(&format!("{}.partial", out.display())).exists(),
                            "{what}: a run was left"
                        );
                        outcomes.push(format!("{what}: {}", lines[0]));
                    }
                    other => panic!("{what}: exit {other:?}: {stderr}"),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} panics:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The refusals, for the log: each one line with its fix.
    for outcome in &outcomes {
        println!("{outcome}");
    }
}
