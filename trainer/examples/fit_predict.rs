//! Fitting and evaluating models from Rust, no config file: a classifier, a regressor and a
//! clusterer, each from the zoo, on data sets read from CSV.
//!
//! ```sh
//! cargo run --release --example fit_predict
//! ```

use std::path::{Path, PathBuf};

use kiln_model_zoo::kmeans::{KMeans, KMeansConfig};
use kiln_model_zoo::linear_regression::{LinearRegression, LinearRegressionConfig};
use kiln_model_zoo::logistic_regression::{
    LogisticRegression, LogisticRegressionConfig, LogisticSolver,
};
use kiln_trainer::data::TargetKind;
use kiln_trainer::{Dataset, Trainer};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data")
        .join(name)
}

fn main() -> kiln_trainer::Result<()> {
    let device = kiln_backends::device(kiln_backends::BackendKind::Flex)
        .expect("flex is compiled into every build");

    // A classifier: multinomial logistic regression by L-BFGS on iris, 20% held out.
    let iris = Dataset::read_csv(data("iris.csv"), Some(("species", TargetKind::Labels)))?;
    let (train, test) = iris.split(0.2, 42)?;
    let config = LogisticRegressionConfig {
        solver: LogisticSolver::Lbfgs,
        ..Default::default()
    };
    let classifier =
        Trainer::default().fit::<LogisticRegression>(&config, &train, None, &device)?;
    let metrics = classifier.evaluate(&test)?;
    let labels = classifier.predict_labels(&test)?.unwrap_or_default();
    println!(
        "logistic regression on iris: {} L-BFGS steps, held-out accuracy {:.3}, log loss {:.3}; \
         first rows predicted {:?}",
        classifier.history.len(),
        metrics["accuracy"],
        metrics["log_loss"],
        &labels[..3]
    );
    assert!(metrics["accuracy"] >= 0.9, "{metrics:?}");

    // A regressor: ridge regression (closed form) on the diabetes data.
    let diabetes = Dataset::read_csv(
        data("diabetes.csv"),
        Some(("progression", TargetKind::Values)),
    )?;
    let (train, test) = diabetes.split(0.2, 42)?;
    let config = LinearRegressionConfig {
        l2: 10.0,
        ..Default::default()
    };
    let regressor = Trainer::default().fit::<LinearRegression>(&config, &train, None, &device)?;
    let metrics = regressor.evaluate(&test)?;
    let (weights, intercept) = regressor.model.coefficients()?;
    println!(
        "ridge regression on diabetes: held-out r2 {:.3}, mse {:.1}; intercept {intercept:.2}, \
         {} weights (on standardized features)",
        metrics["r2"],
        metrics["mse"],
        weights.len()
    );
    assert!(metrics["r2"] > 0.3, "{metrics:?}");

    // A clusterer: k-means with 10 restarts on iris's four measurements. The species column
    // is read, but only scores the clusters (adjusted Rand index).
    let config = KMeansConfig {
        k: 3,
        n_init: 10,
        ..Default::default()
    };
    let options = kiln_trainer::TrainConfig {
        epochs: 3_000, // Lloyd iterations over all restarts at most
        ..Default::default()
    };
    let clusterer = Trainer::new(options).fit::<KMeans>(&config, &iris, None, &device)?;
    let metrics = clusterer.evaluate(&iris)?;
    println!(
        "k-means on iris: inertia {:.2}, silhouette {:.3}, adjusted Rand index {:.3}",
        metrics["inertia"], metrics["silhouette"], metrics["adjusted_rand_index"]
    );
    assert!(metrics["adjusted_rand_index"] > 0.5, "{metrics:?}");
    Ok(())
}
