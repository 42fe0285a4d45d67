//! Bringing a model of your own to kiln: a two-tower network (`two_tower.rs`), trained by
//! kiln's own loop with early stopping, a checkpoint, a stop and a bit-identical resume; and
//! the same model added to the `kiln` command line.
//!
//! ```sh
//! cargo run --release --example custom_model                       # the library, from Rust
//! cargo run --release --example custom_model -- train trainer/examples/custom_model/two-tower.toml
//! cargo run --release --example custom_model -- kinds              # the zoo's kinds and two_tower
//! ```

mod two_tower;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::Module;
use kiln_trainer::cli::Cli;
use kiln_trainer::data::TargetKind;
use kiln_trainer::options::{AdamConfig, EarlyStopping, OptimizerConfig, Schedule};
use kiln_trainer::{Dataset, TrainConfig, Trainer};
use two_tower::{TwoTower, TwoTowerConfig};

fn main() -> ExitCode {
    // With arguments, this program is the `kiln` tool plus `kind = "two_tower"`.
    if std::env::args().len() > 1 {
        return Cli::new().with::<TwoTower>().main();
    }
    match demo() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo() -> kiln_trainer::Result<()> {
    let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/iris.csv");
    let data = Dataset::read_csv(&iris, Some(("species", TargetKind::Labels)))?;
    let (train, valid) = data.split(0.2, 42)?;
    let options = TrainConfig {
        epochs: 60,
        batch_size: 16,
        optimizer: OptimizerConfig::Adam(AdamConfig {
            learning_rate: 0.02,
            ..Default::default()
        }),
        schedule: Schedule::Cosine { min_lr: 0.0 },
        early_stopping: Some(EarlyStopping {
            patience: 15,
            min_delta: 0.0,
            metric: "valid_loss".into(),
        }),
        ..Default::default()
    };
    // The sepal measurements in one tower, the petal measurements in the other.
    let config = TwoTowerConfig {
        split: Some(2),
        hidden: 8,
    };
    let device = kiln_backends::device(kiln_backends::BackendKind::Flex)
        .expect("flex is compiled into every build");

    let whole = Trainer::new(options.clone())
        .on_epoch(|record| {
            if record.epoch % 10 == 0 {
                println!(
                    "epoch {:>2}: loss {:.4}, valid accuracy {:.3}",
                    record.epoch, record.train_loss, record.valid["accuracy"]
                );
            }
        })
        .fit::<TwoTower>(&config, &train, Some(&valid), &device)?;
    let metrics = whole.evaluate(&valid)?;
    println!(
        "two-tower network: {} epochs{}, held-out accuracy {:.3}, log loss {:.3}",
        whole.history.len(),
        if whole.stopped_early {
            " (stopped early)"
        } else {
            ""
        },
        metrics["accuracy"],
        metrics["log_loss"]
    );

    // The same fit, stopped after epoch 20 with a checkpoint, then resumed from it: it ends
    // on the same weights, bit for bit.
    let dir = std::env::temp_dir().join(format!("kiln-custom-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| kiln_trainer::Error::io("create", &dir, e))?;
    let checkpoint = dir.join("checkpoint.kiln");
    let stop = AtomicBool::new(false);
    let stopped = Trainer::new(options.clone())
        .checkpoint(&checkpoint)
        .interrupt(&stop)
        .on_epoch(|record| stop.store(record.epoch == 20, Ordering::Relaxed))
        .fit::<TwoTower>(&config, &train, Some(&valid), &device)?;
    let resumed = Trainer::new(options)
        .checkpoint(&checkpoint)
        .fit::<TwoTower>(&config, &train, Some(&valid), &device)?;
    let bytes = |m: &TwoTower| m.clone().into_record().into_bytes().map(|b| b.to_vec());
    let same = bytes(&resumed.model).ok() == bytes(&whole.model).ok();
    println!(
        "stopped at (epoch, step) {:?}, resumed to {} epochs: weights {} the uninterrupted fit's",
        stopped.interrupted,
        resumed.history.len(),
        if same { "equal" } else { "differ from" }
    );
    assert!(
        same,
        "a resumed fit must end where the uninterrupted one does"
    );

    // A run directory the `kiln` tool reads: eval, predict and export work on it through
    // `Cli::new().with::<TwoTower>()`.
    let run = dir.join("run");
    whole.save(&run, "flex")?;
    println!("saved {}", run.display());
    std::fs::remove_dir_all(&dir).map_err(|e| kiln_trainer::Error::io("remove", &dir, e))?;
    Ok(())
}
