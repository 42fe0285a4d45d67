//! Bad input of every kind ends in one error line naming the place and the fix.

use crate::common::*;

/// A bad-input case: its name, the files written, the extra arguments to `kiln train`, and what
/// the one error line must contain.
type BadInput<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>, Vec<&'a str>);

/// Each bad input ends in one error line naming the place and the fix, and leaves no run.
#[test]
fn bad_input_gives_one_clear_line_and_exit_code_1() {
    let unknown_key = GOOD_CONFIG.replace("epochs = 2", "epochz = 2");
    let bad_toml = GOOD_CONFIG.replace("[model]", "[model");
    let one_class = "a,b,label\n1,2,x\n2,1,x\n3,3,x\n4,1,x\n5,2,x\n";
    let misspelt_target = GOOD_CONFIG.replace("\"label\"", "\"lable\"");
    let negative_l2 = GOOD_CONFIG.replace(
        "kind = \"logistic_regression\"",
        "kind = \"logistic_regression\"\nl2 = -1",
    );
    let linear_on_labels = GOOD_CONFIG.replace("logistic_regression", "linear_regression");
    let many_classes: String = std::iter::once("a,b,label".to_owned())
        .chain((0..2_000).map(|i| format!("{i},{},c{}", i % 7, i % 1_000)))
        .collect::<Vec<_>>()
        .join("\n");
    let long_cell = format!("a,b,label\n1,2,x\n2,{},y\n", "9".repeat(2 << 20));
    let with_valid_file = GOOD_CONFIG.replace("valid_fraction = 0.25", "valid = \"v.csv\"");
    let nul_bytes = "\0".repeat(17 << 20);
    let kmeans = GOOD_CONFIG.replace(
        "kind = \"logistic_regression\"",
        "kind = \"kmeans\"\nk = 20",
    );
    let misspelt_kernel = "[data]\ntrain = \"d.csv\"\ntarget = \"b\"\n\n[model]\nkind = \"gaussian_process\"\nkernel = \"1.0 * RBG(1.0)\"\n";
    let cases: Vec<BadInput> = vec![
        (
            "missing config",
            vec![],
            vec![],
            vec!["cannot read config", "c.toml", "check the path"],
        ),
        (
            "missing data",
            vec![("c.toml", GOOD_CONFIG)],
            vec![],
            vec!["cannot read data file", "d.csv"],
        ),
        (
            "malformed TOML",
            vec![("c.toml", &bad_toml), ("d.csv", GOOD_DATA)],
            vec![],
            vec!["unclosed table", "c.toml:6:7"],
        ),
        (
            "unknown key",
            vec![("c.toml", &unknown_key), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "unknown key `epochz`",
                "c.toml:10:1",
                "did you mean `epochs`?",
            ],
        ),
        (
            "short row",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,y\n"),
            ],
            vec![],
            vec!["row has 2 fields but the header has 3", "d.csv:3;"],
        ),
        (
            "text in a column declared numeric",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,two,y\n"),
            ],
            vec!["--set", "data.numeric=[\"b\"]"],
            vec![
                "column `b` is declared numeric but holds `two` on line 3",
                "d.csv",
                "remove it from `numeric`",
            ],
        ),
        (
            "NaN cell where missing cells are refused",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\nNaN,1,y\n"),
            ],
            vec!["--set", "data.missing=\"error\""],
            vec![
                "column `a` has a missing cell on line 3",
                "`missing = \"error\"`",
                "d.csv",
            ],
        ),
        (
            "infinite cell",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,-inf,x\n2,1,y\n"),
            ],
            vec![],
            vec!["holds `-inf`", "d.csv:2;"],
        ),
        (
            "unknown target column",
            vec![("c.toml", &misspelt_target), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "no target column `lable`",
                "d.csv:1;",
                "did you mean `label`?",
            ],
        ),
        (
            "one class",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", one_class)],
            vec![],
            vec![
                "needs at least 2 classes in the target column, found 1",
                "d.csv",
            ],
        ),
        (
            "backend not compiled in",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--backend", "vulkan"],
            vec![
                "backend `vulkan` is not compiled into this build; rebuild with `--features vulkan`",
            ],
        ),
        (
            "unknown backend",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--backend", "cuda"],
            vec!["unknown backend `cuda`", "in --backend cuda;"],
        ),
        (
            "negative penalty",
            vec![("c.toml", &negative_l2), ("d.csv", GOOD_DATA)],
            vec![],
            vec!["`l2` must be >= 0, got -1", "c.toml:8:1"],
        ),
        (
            "unknown kernel",
            vec![
                ("c.toml", misspelt_kernel),
                ("d.csv", "a,b\n1,2\n2,1\n3,3\n4,1\n5,2\n"),
            ],
            vec![],
            vec![
                "unknown kernel `RBG`; kernels are RBF, Matern, DotProduct",
                "at column 7",
                "c.toml:7:1",
            ],
        ),
        (
            "regression on labels",
            vec![("c.toml", &linear_on_labels), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "target column `label` holds `x`, which is not a finite number",
                "d.csv:2;",
            ],
        ),
        (
            "diverging loss",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,1,y\n3,3,x\n4,1,y\n"),
            ],
            vec![
                // No checkpoint before the end: nothing is worth keeping.
                "--set",
                "train.checkpoint_every=0",
                "--set",
                "train.optimizer={ kind = \"adam\", learning_rate = 1e38 }",
                "--set",
                "data.standardize=false",
                "--set",
                "model.l2=1e30",
                "--set",
                "model.solver=\"sgd\"",
            ],
            vec![
                "the training loss became",
                "at epoch 2",
                "lower `train.optimizer.learning_rate`",
            ],
        ),
    ];
    let more: Vec<BadInput> = vec![
        (
            "a validation fraction that leaves one training row",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--set", "data.valid_fraction=0.999"],
            vec![
                "`valid_fraction = 0.999` leaves 1 of the 8 rows to train on",
                "--set data.valid_fraction=0.999",
                "lower it",
            ],
        ),
        (
            "more clusters than rows",
            vec![("c.toml", &kmeans), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "has 6 rows, fewer than `k = 20` asks for",
                "c.toml:8:1",
                "lower `k` to at most 6",
            ],
        ),
        (
            "a label unknown to training among 1,000",
            vec![
                ("c.toml", &with_valid_file),
                ("d.csv", &many_classes),
                ("v.csv", "a,b,label\n1,2,c1\n2,1,unseen\n"),
            ],
            vec![],
            vec![
                "label `unseen` was not among the training labels (c0, c1,",
                "(990 more)",
                "v.csv:3",
            ],
        ),
        (
            "a cell longer than the limit",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", &long_cell)],
            vec![],
            vec![
                "the cell of column b is longer than 1048576 bytes",
                "d.csv:3;",
                "max_field_bytes",
            ],
        ),
        (
            "a file of NUL bytes",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", &nul_bytes)],
            vec![],
            vec![
                "a line longer than 16777216 bytes",
                "d.csv:1;",
                "max_line_bytes",
            ],
        ),
        (
            "streamed chunks smaller than a batch",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec![
                "--set",
                "data.chunk_rows=2",
                "--set",
                "data.valid_fraction=0",
                "--set",
                "train.batch_size=4",
                "--set",
                "model.solver=\"sgd\"",
            ],
            vec![
                "`chunk_rows = 2` is smaller than `batch_size = 4`",
                "--set data.chunk_rows=2",
            ],
        ),
        (
            "an override of the wrong type",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--set", "train.epochs=many"],
            vec!["invalid type", "in --set train.epochs=many;"],
        ),
    ];
    for (what, files, extra, expected) in cases.into_iter().chain(more) {
        let dir = workspace(&files);
        let mut args = vec!["train", "c.toml", "--out", "run"];
        args.extend(extra);
        let line = kiln_error(&args, dir.path());
        for needle in expected {
            assert!(line.contains(needle), "{what}: `{needle}` not in: {line}");
        }
        assert!(
            !dir.path().join("run").exists(),
            "{what}: a run directory was left behind"
        );
        assert!(
            !dir.path().join("run.partial").exists(),
            "{what}: a partial run was left behind"
        );
    }
}

#[test]
fn eval_and_predict_reject_bad_runs_and_data() {
    let dir = workspace(&[
        ("c.toml", GOOD_CONFIG),
        ("d.csv", GOOD_DATA),
        ("other.csv", "a,c,label\n1,2,x\n"),
    ]);
    let line = kiln_error(
        &["eval", "--model", "nowhere", "--data", "d.csv"],
        dir.path(),
    );
    assert!(
        line.contains("not a completed kiln run (no summary.json)") && line.contains("nowhere"),
        "{line}"
    );
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    let line = kiln_error(
        &["predict", "--model", "run", "--data", "other.csv"],
        dir.path(),
    );
    assert!(
        line.contains("no feature column `b`") && line.contains("other.csv:1"),
        "{line}"
    );
    let line = kiln_error(&["train", "c.toml", "--out", "run"], dir.path());
    assert!(line.contains("already exists and is not empty"), "{line}");
}
