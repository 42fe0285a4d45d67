//! Raw tables: column selection, types, categories, missing cells, and the one fitted
//! encoding that `eval`, `predict` and the deployment file apply. (Every backend trains the
//! raw-table configs in `configs.rs`; the firmware reads raw rows in `embedded.rs`.)

use std::path::Path;

use kiln_backends::BackendKind;
use kiln_model_zoo::deploy::Deployment;
use kiln_model_zoo::table::{Cell, ColumnKind, Missing, TableEncoding};
use kiln_model_zoo::{Model, Preprocessing};
use kiln_trainer::cli::Registry;
use kiln_trainer::predictions::Output;

use crate::common::*;

fn preprocessing(run: &Path) -> Preprocessing {
    kiln_trainer::run::read_meta(run).unwrap().preprocessing
}

fn table(run: &Path) -> TableEncoding {
    preprocessing(run).table.expect("a table encoding")
}

/// The mean of a column's non-missing cells in a CSV file, as f32 from an f64 sum.
fn column_mean(path: &Path, column: &str) -> f32 {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let index = lines
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == column)
        .unwrap();
    let values: Vec<f64> = lines
        .filter_map(|l| l.split(',').nth(index)?.parse().ok())
        .collect();
    (values.iter().sum::<f64>() / values.len() as f64) as f32
}

#[test]
fn the_raw_penguins_table_trains_and_its_encoding_goes_wherever_the_model_goes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let report = train(
        &config("penguins-logistic.toml"),
        BackendKind::Flex,
        &run,
        &[],
    );
    let data = repo().join("examples/data");

    // The encoding: `year` dropped, text columns one-hot, numbers filled with the mean of the
    // training file's rows only (not the test file's).
    let encoding = table(&run);
    assert_eq!(
        encoding.column_names(),
        [
            "island",
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
            "sex"
        ]
    );
    assert_eq!(
        encoding.columns[0].kind,
        ColumnKind::OneHot {
            categories: ["Biscoe", "Dream", "Torgersen"].map(String::from).to_vec(),
            other: vec![],
        }
    );
    assert_eq!(
        encoding.columns[1].missing,
        Missing::Value(column_mean(
            &data.join("penguins-train.csv"),
            "bill_length_mm"
        ))
    );
    // `sex` has missing training cells: they are a category of their own; `island` has none.
    assert_eq!(encoding.columns[5].missing, Missing::OwnCategory);
    assert_eq!(
        encoding.columns[0].missing,
        Missing::Category("(missing)".into())
    );
    assert_eq!(report.summary.n_features, 3 + 4 + 3);

    // The summary records each column: type, missing cells, categories kept.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let sex = &summary["columns"][5];
    assert_eq!(sex["name"], "sex");
    assert_eq!(sex["type"], "categorical");
    assert_eq!(sex["missing"], 9);
    assert_eq!(sex["categories"], serde_json::json!(["female", "male"]));
    assert_eq!(summary["columns"][1]["type"], "numeric");

    // `eval` reads the raw test file through the same encoding.
    let metrics = eval_json(&run, &data.join("penguins-test.csv"), dir.path());
    assert_eq!(
        metrics["accuracy"].as_f64().unwrap(),
        report.summary.valid["accuracy"]
    );

    // `predict` writes one prediction per row, whatever its cells: an island training never
    // saw (counted in a warning), missing numbers and categories, a number-like text.
    let rows = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n\
                ,Atlantis,39.1,18.7,181,3750,male,2007\n\
                ,Dream,NA,NA,NA,NA,NA,2008\n\
                ,Biscoe,,,,,,\n\
                ,Torgersen,46,14,215,5000,?,2009\n";
    std::fs::write(dir.path().join("rows.csv"), rows).unwrap();
    let out = kiln_ok(
        &[
            "predict",
            "--model",
            run.to_str().unwrap(),
            "--data",
            "rows.csv",
        ],
        dir.path(),
    );
    let predictions = String::from_utf8(out.stdout).unwrap();
    assert_eq!(predictions.lines().count(), 1 + 4, "{predictions}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: 1 cells of rows.csv hold categories training never saw"),
        "{stderr}"
    );

    // The deployment file carries the encoding: raw cells predict as the host does.
    let exported = dir.path().join("penguins.kiln");
    Registry::zoo().export(&run, &exported).unwrap();
    let device = kiln_backends::open(BackendKind::Flex).unwrap().device;
    let (deployment, model) =
        Deployment::decode::<Model>(&std::fs::read(&exported).unwrap(), &device).unwrap();
    let mut host = Vec::new();
    Registry::zoo()
        .predict(
            &run,
            &dir.path().join("rows.csv"),
            None,
            Output::Csv(&mut host),
        )
        .unwrap();
    let host = String::from_utf8(host).unwrap();
    for (line, expected) in rows.lines().skip(1).zip(host.lines().skip(1)) {
        let cells: Vec<&str> = line.split(',').collect();
        // The model's columns, in its order: island, the four numbers, sex.
        let raw: Vec<Cell> = [1, 2, 3, 4, 5, 6]
            .iter()
            .map(|&i| Cell::Text(cells[i]))
            .collect();
        let probabilities = deployment.predict_cells(&model, &raw, &device).unwrap();
        let expected: Vec<f32> = expected
            .split(',')
            .skip(1)
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(probabilities.len(), expected.len());
        for (p, e) in probabilities.iter().zip(&expected) {
            assert!(
                (p - e).abs() < 1e-6,
                "{line}: {probabilities:?} vs {expected:?}"
            );
        }
    }
}

const PETS: &str = "kind,weight,colour,zip,legs,age\n\
    cat,4.1,black,02139,4,3\n\
    dog,NA,brown,10001,4,5\n\
    cat,3.9,,02139,4,\n\
    dog,30,black,60601,4,2\n\
    cat,5.2,white,02139,4,8\n\
    dog,22,brown,10001,4,NA\n\
    cat,4.4,black,94105,4,1\n\
    dog,18,white,10001,4,4\n\
    ,12,black,02139,4,6\n\
    cat,3.5,brown,02139,4,7\n";

fn pets_config(extra: &str) -> String {
    format!(
        "[data]\ntrain = \"pets.csv\"\ntarget = \"kind\"\nvalid_fraction = 0\n{extra}\n\
         [model]\nkind = \"logistic_regression\"\nsolver = \"lbfgs\"\n\n[train]\nepochs = 20\n"
    )
}

/// Trains `pets_config(extra)` with the CLI; the run directory and stderr.
fn train_pets(extra: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = workspace(&[("pets.csv", PETS), ("c.toml", &pets_config(extra))]);
    let out = kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    let run = dir.path().join("run");
    (dir, run, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn categories_and_missing_cells_follow_their_settings() {
    // Defaults: `colour` (text) one-hot with its missing cell a category of its own, `zip`
    // numeric (it holds numbers), a missing weight the training mean, the row without a
    // target left out with a warning.
    let (_dir, run, stderr) = train_pets("");
    assert!(
        stderr.contains("warning: left out 1 rows of pets.csv whose target is missing"),
        "{stderr}"
    );
    let encoding = table(&run);
    assert_eq!(encoding.columns[2].kind, ColumnKind::Numeric);
    let weights = [4.1f64, 3.9, 30.0, 5.2, 22.0, 4.4, 18.0, 3.5];
    assert_eq!(
        encoding.columns[0].missing,
        Missing::Value((weights.iter().sum::<f64>() / 8.0) as f32)
    );
    assert_eq!(encoding.columns[1].missing, Missing::OwnCategory);
    assert_eq!(
        encoding.feature_names(),
        [
            "weight",
            "colour=black",
            "colour=brown",
            "colour=white",
            "colour=(missing)",
            "zip",
            "legs",
            "age"
        ]
    );

    // Declared categorical, rare ones folded, ordinal, per-column imputation and indicators,
    // custom missing values.
    let (_dir, run, _) = train_pets(
        "categorical = [\"zip\"]\nmax_categories = 2\nmissing_indicator = true\n\
         [data.columns.colour]\nencoding = \"ordinal\"\nimpute = \"most_frequent\"\n\
         [data.columns.age]\nimpute = \"median\"\nmissing_indicator = false\n\
         [data.columns.weight]\nimpute = { constant = -1 }\n",
    );
    let encoding = table(&run);
    let by_name = |name: &str| {
        encoding
            .columns
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_name("zip").kind,
        ColumnKind::OneHot {
            categories: vec!["02139".into()],
            other: ["10001", "60601", "94105"].map(String::from).to_vec(),
        }
    );
    // `black` and `brown` tie at 3 (with the filled cell, `black` 4): the most frequent.
    let colour = by_name("colour");
    assert_eq!(colour.missing, Missing::Category("black".into()));
    assert!(matches!(colour.kind, ColumnKind::Ordinal { .. }));
    assert!(colour.indicator, "colour had a missing cell");
    assert_eq!(by_name("weight").missing, Missing::Value(-1.0));
    assert!(by_name("weight").indicator);
    // The labelled rows' ages but the two missing: 1 2 3 4 5 7 8, median 4.
    assert_eq!(by_name("age").missing, Missing::Value(4.0));
    assert!(!by_name("age").indicator);
    assert!(!by_name("legs").indicator, "no missing legs, no indicator");

    // `drop_row` leaves rows out (counted); `missing_values` replaces the list.
    let (_dir, run, stderr) = train_pets("[data.columns.weight]\nmissing = \"drop_row\"\n");
    assert!(
        stderr.contains(
            "left out 1 rows of pets.csv missing a cell of a `missing = \"drop_row\"` column"
        ),
        "{stderr}"
    );
    assert_eq!(table(&run).columns[0].missing, Missing::DropRow);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["n_train"], 8);
    assert_eq!(summary["dropped_missing_feature"], 1);
    let (_dir, run, _) =
        train_pets("missing_values = [\"NA\", \"\"]\nfeatures = [\"weight\", \"age\"]\n");
    let encoding = table(&run);
    assert_eq!(encoding.column_names(), ["weight", "age"]);
    assert_eq!(encoding.missing_values, ["NA", ""]);
}

#[test]
fn column_rules_are_one_line_errors_naming_the_column_file_and_fix() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a,b,y\n1,NA,p\n2,,q\n3,NA,p\n",
            "",
            &["column `b` has no values", "in d.csv;", "drop = [\"b\"]"],
        ),
        (
            "a,b,y\n1,k,p\n2,k,q\n3,k,p\n",
            "",
            &[
                "categorical column `b` holds one category (`k`)",
                "in d.csv;",
                "drop = [\"b\"]",
            ],
        ),
        (
            "a,b,y\n1,k,p\n2,l,q\n3,m,p\n",
            "max_categories = 2\nother = false\n",
            &[
                "column `b` has 3 categories, more than `max_categories = 2`",
                "in d.csv;",
                "other = true",
            ],
        ),
        (
            "a,b,y\n1,2,p\n2,x3,q\n3,4,p\n",
            "numeric = [\"b\"]\n",
            &[
                "column `b` is declared numeric but holds `x3` on line 3",
                "in d.csv:3;",
                "remove it from `numeric`",
            ],
        ),
        (
            "a,b,y\n1,2,p\n2,3,q\n3,4,p\n",
            "features = [\"aa\", \"b\"]\n",
            &[
                "`features` names column `aa`, which is not in the header",
                "in c.toml:5",
                "did you mean `a`?",
            ],
        ),
        (
            "a,b,y\n1,k,p\n2,NA,q\n3,l,p\n",
            "[data.columns.b]\nimpute = \"mean\"\n",
            &[
                "column `b` is categorical, and `impute = \"mean\"` needs numbers",
                "most_frequent",
            ],
        ),
        (
            "a,b,y\n1,2,p\n2,NA,q\n3,4,p\n",
            "missing = \"error\"\n",
            &[
                "column `b` has a missing cell on line 3",
                "in d.csv:3;",
                "missing = \\\"impute\\\"",
            ],
        ),
    ];
    for (data, extra, wanted) in cases {
        let config = format!(
            "[data]\ntrain = \"d.csv\"\ntarget = \"y\"\nvalid_fraction = 0\n{extra}\n\
             [model]\nkind = \"logistic_regression\"\n"
        );
        let dir = workspace(&[("d.csv", data), ("c.toml", &config)]);
        let line = kiln_error(&["train", "c.toml"], dir.path());
        for want in *wanted {
            let want = want.replace("\\\"", "\"");
            assert!(line.contains(&want), "{extra}: {line}\nmissing: {want}");
        }
    }
}

#[test]
fn a_streamed_raw_table_fits_the_encoding_the_whole_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let streamed = dir.path().join("streamed");
    let config = config("penguins-logistic.toml");
    let a = train(&config, BackendKind::Flex, &whole, &[]);
    let b = train(
        &config,
        BackendKind::Flex,
        &streamed,
        &["data.chunk_rows=64"],
    );
    assert_eq!(table(&whole), table(&streamed));
    let (a, b) = (a.summary.valid["log_loss"], b.summary.valid["log_loss"]);
    assert!((a - b).abs() <= 1e-4 * a, "{a} vs {b}");
}

/// The penguins split written by pandas 3.1.2 / pyarrow 26 (`benches/peers/tables_reference.py`):
/// Parquet (Snappy) and Arrow IPC (Feather v2, LZ4) files holding the CSV files' rows, with
/// typed columns and nulls where the CSV has `NA`.
#[test]
fn parquet_and_arrow_tables_train_predict_and_stream_as_their_csv_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo().join("examples/data");
    let config = config("penguins-logistic.toml");
    let run = |name: &str, train_file: &str, set: &[&str]| {
        let out = dir.path().join(name);
        let train_set = format!("data.train=\"{}\"", data.join(train_file).display());
        let valid_set = format!(
            "data.valid=\"{}\"",
            data.join("penguins-test.parquet").display()
        );
        let mut all = vec![train_set.as_str(), valid_set.as_str()];
        all.extend(set);
        train(&config, BackendKind::Flex, &out, &all);
        out
    };
    let bytes = |run: &Path| std::fs::read(run.join("model.bpk")).unwrap();
    let csv = run("csv", "penguins-train.csv", &[]);
    for file in ["penguins-train.parquet", "penguins-train.arrow"] {
        assert_eq!(bytes(&run(file, file, &[])), bytes(&csv), "{file}");
    }
    // Streamed in chunks, Parquet row groups are read a slice at a time.
    let chunked = ["data.chunk_rows=64"];
    assert_eq!(
        bytes(&run("csv-chunks", "penguins-train.csv", &chunked)),
        bytes(&run("parquet-chunks", "penguins-train.parquet", &chunked)),
    );

    // `eval` reads either; `predict` writes the format `--out` names.
    let test_csv = data.join("penguins-test.csv");
    let test_parquet = data.join("penguins-test.parquet");
    assert_eq!(
        eval_json(&csv, &test_parquet, dir.path()),
        eval_json(&csv, &test_csv, dir.path())
    );
    let predict = |data: &Path, out: &str| {
        let out = dir.path().join(out);
        kiln_ok(
            &[
                "predict",
                "--model",
                csv.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        out
    };
    let text = std::fs::read_to_string(predict(&test_csv, "p.csv")).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(predict(&test_parquet, "q.csv")).unwrap()
    );
    let csv_rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let file = std::fs::File::open(predict(&test_parquet, "p.parquet")).unwrap();
    let batches: Vec<_> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, csv_rows[0]);
    let mut row = 1;
    for batch in &batches {
        let labels = arrow_array::cast::AsArray::as_string::<i32>(batch.column(0));
        let adelie = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float32Type>(
            batch.column(1),
        );
        for i in 0..batch.num_rows() {
            assert_eq!(labels.value(i), csv_rows[row][0]);
            assert_eq!(adelie.value(i), csv_rows[row][1].parse::<f32>().unwrap());
            row += 1;
        }
    }
    assert_eq!(row, csv_rows.len(), "every row predicted");

    // A file that is not what its extension says: one line naming it.
    std::fs::write(dir.path().join("bad.parquet"), "island,sex\nBiscoe,male\n").unwrap();
    let line = kiln_error(
        &[
            "eval",
            "--model",
            csv.to_str().unwrap(),
            "--data",
            "bad.parquet",
        ],
        dir.path(),
    );
    assert!(line.contains("bad.parquet"), "{line}");
    assert!(line.contains("Parquet"), "{line}");

    // A damaged file on which the Parquet reader asserts rather than returns an error (found
    // by the `columnar` fuzz target): one line naming it, and no panic.
    let damaged = repo().join("fuzz/corpus/columnar/damaged-dictionary.parquet");
    std::fs::copy(&damaged, dir.path().join("damaged.parquet")).unwrap();
    std::fs::write(
        dir.path().join("damaged.toml"),
        "[data]\ntrain = \"damaged.parquet\"\ntarget = \"y\"\n[model]\nkind = \"kmeans\"\nk = 2\n",
    )
    .unwrap();
    let line = kiln_error(&["train", "damaged.toml", "--out", "run"], dir.path());
    assert!(
        line.contains("damaged.parquet") && line.contains("the file is damaged ("),
        "{line}"
    );

    // An Arrow file of 1,243 bytes whose footer lists a 4 GB block (found by fuzzing): refused
    // before the reader allocates the block.
    let arrow = repo().join("fuzz/corpus/columnar/block-past-the-end.arrow");
    std::fs::copy(&arrow, dir.path().join("damaged.arrow")).unwrap();
    std::fs::write(
        dir.path().join("damaged.toml"),
        "[data]\ntrain = \"damaged.arrow\"\n[model]\nkind = \"kmeans\"\nk = 2\n",
    )
    .unwrap();
    let line = kiln_error(&["train", "damaged.toml", "--out", "run"], dir.path());
    assert!(
        line.contains("claims 4244635672 bytes, past the end of the file's 1243"),
        "{line}"
    );
}
