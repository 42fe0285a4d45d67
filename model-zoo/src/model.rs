//! The one list of the zoo's models, and what is generated from it: the `[model]` config enum
//! ([`ModelConfig`], serde-tagged by `kind`), the checked-parameters enum ([`ModelSpec`]), the
//! model enum ([`Model`], a burn `Module` the run directory and the firmware load), and
//! [`Estimator`] for [`Model`], which hands every call to the model a config names.
//!
//! Adding a model to the zoo is: its module (implementing [`Estimator`]), one line in the
//! `models!` list below, its cargo feature, a config under `configs/`, and its tests. Nothing
//! else in the workspace names it.

use alloc::string::String;

use burn::module::Module;
use burn::store::RecordError;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape};
use crate::error::{ConfigError, FitError};
use crate::estimator::{BadTarget, ConfigReadError, Estimator, OnDevice, Output, Supervision};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::metrics::{HostPrediction, HostTargets, Metrics};

/// Generates the enums and their [`Estimator`] from the list of models: one line per model,
/// `"kind", "cargo-feature" => Variant(module::Type);`. The variant names are those the saved
/// weights' tensor paths start with (`KMeans.centers`), so they never change.
macro_rules! models {
    ($($kind:literal, $feature:literal => $variant:ident($module:ident::$model:ident);)*) => {
        /// The `[model]` table of a config file: `kind` picks the model, the other keys are its
        /// own (see each model's config type).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum ModelConfig {
            $(
                #[cfg(feature = $feature)]
                #[serde(rename = $kind)]
                #[doc = concat!("`kind = \"", $kind, "\"`")]
                $variant(<crate::$module::$model as Estimator>::Config),
            )*
        }

        /// A checked model config: everything needed to build the model.
        #[derive(Clone, Debug, PartialEq)]
        pub enum ModelSpec {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("The checked parameters of `kind = \"", $kind, "\"`.")]
                $variant(<crate::$module::$model as Estimator>::Params),
            )*
        }

        /// Any model of the zoo.
        #[derive(Module, Debug)]
        pub enum Model {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("`kind = \"", $kind, "\"`.")]
                $variant(crate::$module::$model),
            )*
        }

        $(
            #[cfg(feature = $feature)]
            impl From<crate::$module::$model> for Model {
                fn from(model: crate::$module::$model) -> Self {
                    Self::$variant(model)
                }
            }
        )*

        impl Estimator for Model {
            type Config = ModelConfig;
            type Params = ModelSpec;

            const KINDS: &'static [&'static str] = &[$(#[cfg(feature = $feature)] $kind,)*];

            fn kind(config: &ModelConfig) -> &'static str {
                match config {
                    $(#[cfg(feature = $feature)] ModelConfig::$variant(_) => $kind,)*
                }
            }

            fn read_config(table: serde_json::Value) -> Result<ModelConfig, ConfigReadError> {
                match table.get("kind") {
                    None => return Err(ConfigReadError::MissingKind),
                    Some(serde_json::Value::String(kind)) if !Self::KINDS.contains(&kind.as_str()) => {
                        return Err(ConfigReadError::WrongKind {
                            found: kind.clone(),
                            expected: Self::KINDS.join(", "),
                        });
                    }
                    Some(_) => {}
                }
                serde_json::from_value(table)
                    .map_err(|e| ConfigReadError::Invalid(alloc::format!("{e}")))
            }

            fn fill_earlier_defaults(table: &mut serde_json::Value) {
                let kind = match table.get("kind") {
                    Some(serde_json::Value::String(kind)) => kind.clone(),
                    _ => return,
                };
                $(#[cfg(feature = $feature)]
                if <crate::$module::$model as Estimator>::KINDS.contains(&kind.as_str()) {
                    <crate::$module::$model as Estimator>::fill_earlier_defaults(table);
                })*
            }

            fn write_config(config: &ModelConfig) -> serde_json::Value {
                serde_json::to_value(config).unwrap_or(serde_json::Value::Null)
            }

            fn supervision(config: &ModelConfig) -> Supervision {
                match config {
                    $(#[cfg(feature = $feature)] ModelConfig::$variant(c) => {
                        <crate::$module::$model as Estimator>::supervision(c)
                    })*
                }
            }

            fn check(config: &ModelConfig, shape: &DataShape) -> Result<ModelSpec, ConfigError> {
                Ok(match config {
                    $(#[cfg(feature = $feature)] ModelConfig::$variant(c) => {
                        ModelSpec::$variant(<crate::$module::$model as Estimator>::check(c, shape)?)
                    })*
                })
            }

            fn fit_method(params: &ModelSpec) -> FitMethod {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::fit_method(p)
                    })*
                }
            }

            fn max_steps(params: &ModelSpec) -> Option<usize> {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::max_steps(p)
                    })*
                }
            }

            fn output(params: &ModelSpec) -> Output {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::output(p)
                    })*
                }
            }

            fn extra_metric_names(params: &ModelSpec) -> &'static [&'static str] {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::extra_metric_names(p)
                    })*
                }
            }

            fn streams(params: &ModelSpec) -> bool {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::streams(p)
                    })*
                }
            }

            fn cost_note(params: &ModelSpec, n_rows: usize) -> Option<String> {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::cost_note(p, n_rows)
                    })*
                }
            }

            fn check_targets(params: &ModelSpec, y: &[f32]) -> Result<(), BadTarget> {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::check_targets(p, y)
                    })*
                }
            }

            fn loss_splits_by_rows(params: &ModelSpec) -> bool {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::loss_splits_by_rows(p)
                    })*
                }
            }

            fn is_stochastic(params: &ModelSpec) -> bool {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::is_stochastic(p)
                    })*
                }
            }

            fn init(params: &ModelSpec, device: &Device) -> Self {
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        Self::$variant(<crate::$module::$model as Estimator>::init(p, device))
                    })*
                }
            }

            fn shaped_for(
                params: &ModelSpec,
                weights: &[u8],
                device: &Device,
            ) -> Result<Self, RecordError> {
                Ok(match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        Self::$variant(<crate::$module::$model as Estimator>::shaped_for(
                            p, weights, device,
                        )?)
                    })*
                })
            }

            /// Loads weights saved from this enum (tensor paths under the variant's name, as
            /// `kiln train` writes them) or from the model type itself (a model fitted
            /// through the library).
            fn load_weights(
                params: &ModelSpec,
                weights: &[u8],
                device: &Device,
            ) -> Result<Self, RecordError> {
                let as_enum = Self::shaped_for(params, weights, device)
                    .and_then(|shaped| crate::estimator::load_into(shaped, weights));
                let error = match as_enum {
                    Ok(model) => return Ok(model),
                    Err(e) => e,
                };
                match params {
                    $(#[cfg(feature = $feature)] ModelSpec::$variant(p) => {
                        <crate::$module::$model as Estimator>::load_weights(p, weights, device)
                            .map(Self::$variant)
                            .map_err(|_| error)
                    })*
                }
            }

            fn name(&self) -> &'static str {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(_) => $kind,)*
                }
            }

            fn predict(&self, x: Tensor<2>) -> Prediction {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.predict(x),)*
                }
            }

            fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.loss(batch, n_train),)*
                }
            }

            fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.fit_step(rows),)*
                }
            }

            fn objective(&self, batch: &Batch, n_train: usize) -> Result<f64, FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.objective(batch, n_train),)*
                }
            }

            fn add_metrics(
                &self,
                x: &Tensor<2>,
                prediction: &HostPrediction,
                targets: &HostTargets,
                metrics: &mut Metrics,
            ) -> Result<(), FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => {
                        m.add_metrics(x, prediction, targets, metrics)
                    })*
                }
            }

            fn add_final_metrics(&self, batch: &Batch, metrics: &mut Metrics) -> Result<(), FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.add_final_metrics(batch, metrics),)*
                }
            }

            fn describe(&self) -> Result<Option<String>, FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.describe(),)*
                }
            }

            fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.fit_state(),)*
                }
            }

            fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(m) => m.restore_fit_state(state),)*
                }
            }

            fn on_device(config: &ModelConfig, params: &ModelSpec) -> OnDevice<ModelConfig> {
                #[allow(unreachable_patterns)]
                match (config, params) {
                    $(#[cfg(feature = $feature)] (ModelConfig::$variant(c), ModelSpec::$variant(p)) => {
                        match <crate::$module::$model as Estimator>::on_device(c, p) {
                            OnDevice::OnlineSgd => OnDevice::OnlineSgd,
                            OnDevice::Steps(c) => OnDevice::Steps(ModelConfig::$variant(c)),
                        }
                    })*
                    // Parameters checked from another kind's config: the config's own steps.
                    _ => OnDevice::Steps(config.clone()),
                }
            }
        }
    };
}

models! {
    "linear_regression", "linear-regression" => LinearRegression(linear_regression::LinearRegression);
    "logistic_regression", "logistic-regression" => LogisticRegression(logistic_regression::LogisticRegression);
    "kmeans", "kmeans" => KMeans(kmeans::KMeans);
    "mlp", "mlp" => Mlp(mlp::Mlp);
    "linear_svm", "linear-svm" => LinearSvm(linear_svm::LinearSvm);
    "glm", "glm" => Glm(glm::Glm);
    "gmm", "gmm" => Gmm(gmm::Gmm);
    "kernel_svm", "kernel-svm" => KernelSvm(kernel_svm::KernelSvm);
    "gaussian_process", "gaussian-process" => GaussianProcess(gaussian_process::GaussianProcess);
}

#[cfg(all(test, feature = "all-models"))]
mod tests {
    use super::*;
    use crate::Task;
    use crate::data::read_f32;
    use crate::estimator::fresh;
    use crate::testing::{classification_batch, for_each_device, minimize, regression_batch};

    fn config(json: serde_json::Value) -> ModelConfig {
        Model::read_config(json).unwrap()
    }

    /// What [`Estimator::loss_splits_by_rows`] promises the trainer's split steps: for every
    /// gradient model it marks, a batch's loss is its two parts' losses weighted by their
    /// shares of the rows, penalty included. A few Adam steps first move the weights off their
    /// zero start, so that the penalty counts.
    #[test]
    fn split_losses_add_up_to_the_batch_loss() {
        let (n, d, first) = (30, 3, 13);
        let x: alloc::vec::Vec<f32> = (0..n * d)
            .map(|i| (i * 37 % 23) as f32 / 7.0 - 1.5)
            .collect();
        let classes: alloc::vec::Vec<usize> = (0..n).map(|i| i % 3).collect();
        let counts: alloc::vec::Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
        let labelled = Task::Classification { n_classes: 3 };
        use serde_json::json;
        let configs = [
            (
                json!({"kind": "linear_regression", "solver": "sgd", "l2": 0.5}),
                Task::Regression,
            ),
            (json!({"kind": "logistic_regression"}), labelled),
            (json!({"kind": "linear_svm"}), labelled),
            (json!({"kind": "glm"}), Task::Regression),
            (
                json!({"kind": "glm", "family": "tweedie"}),
                Task::Regression,
            ),
            (json!({"kind": "mlp", "hidden": [8]}), labelled),
            (
                json!({"kind": "mlp", "hidden": [8], "task": "regression"}),
                Task::Regression,
            ),
        ];
        for_each_device(|device| {
            let autodiff = device.clone().autodiff();
            for (json, task) in &configs {
                let shape = DataShape {
                    n_features: d,
                    task: *task,
                };
                let spec = Model::check(&config(json.clone()), &shape).unwrap();
                assert!(Model::loss_splits_by_rows(&spec), "{spec:?}");
                let batch = match task {
                    Task::Regression => regression_batch(&x, &counts, d, &autodiff),
                    Task::Classification { .. } => classification_batch(&x, &classes, d, &autodiff),
                };
                let model = minimize(fresh::<Model>(&spec, &autodiff), 5, 0.1, |m| {
                    m.loss(&batch, 4 * n).unwrap()
                });
                let loss = |rows: &Batch| {
                    let share = rows.len() as f64 / n as f64;
                    read_f32(model.loss(rows, 4 * n).unwrap()).unwrap()[0] as f64 * share
                };
                let whole = loss(&batch);
                let parts = loss(&batch.narrow(0, first)) + loss(&batch.narrow(first, n - first));
                assert!(
                    (whole - parts).abs() <= 1e-5 * whole.abs(),
                    "{device:?} {spec:?}: {whole} != {parts}"
                );
            }
        });
        let kernel_svm = Model::check(
            &config(serde_json::json!({"kind": "kernel_svm"})),
            &DataShape {
                n_features: d,
                task: labelled,
            },
        )
        .unwrap();
        assert!(!Model::loss_splits_by_rows(&kernel_svm));
    }

    /// Every kind reads back from the table it writes, and a table names its errors.
    #[test]
    fn configs_round_trip_and_bad_tables_are_errors() {
        for kind in Model::KINDS {
            let config = config(serde_json::json!({ "kind": kind }));
            assert_eq!(Model::kind(&config), *kind);
            let table = Model::write_config(&config);
            assert_eq!(table["kind"], *kind);
            assert_eq!(Model::read_config(table).unwrap(), config);
        }
        assert_eq!(
            Model::read_config(serde_json::json!({"l2": 1.0})).unwrap_err(),
            ConfigReadError::MissingKind
        );
        assert!(matches!(
            Model::read_config(serde_json::json!({"kind": "kmean"})),
            Err(ConfigReadError::WrongKind { .. })
        ));
        let unknown = Model::read_config(serde_json::json!({"kind": "kmeans", "kk": 3}));
        assert!(
            matches!(&unknown, Err(ConfigReadError::Invalid(m)) if m.contains("unknown field `kk`")),
            "{unknown:?}"
        );
    }

    /// Weights saved from a model type itself (a library fit) load into the enum as well as
    /// those saved from the enum (`kiln train`), and predict the same.
    #[test]
    fn the_enum_loads_weights_saved_from_either_form() {
        use burn::module::Module;
        use burn::tensor::{Tensor, TensorData};
        let device = burn::tensor::Device::flex();
        let shape = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 3 },
        };
        let spec = Model::check(
            &config(serde_json::json!({"kind": "logistic_regression"})),
            &shape,
        )
        .unwrap();
        let ModelSpec::LogisticRegression(params) = &spec else {
            unreachable!("a logistic regression")
        };
        let mut inner: crate::logistic_regression::LogisticRegression = fresh(params, &device);
        inner.linear.weight = burn::module::Param::from_tensor(Tensor::from_data(
            TensorData::new(alloc::vec![0.5f32, -1.0, 2.0, 1.5, 0.25, -0.75], [2, 3]),
            &device,
        ));
        let x = Tensor::<2>::from_data(TensorData::new(alloc::vec![1.0f32, 2.0], [1, 2]), &device);
        let want = crate::metrics::HostPrediction::read(inner.predict(x.clone())).unwrap();
        let direct = inner.clone().into_record().into_bytes().unwrap().to_vec();
        let wrapped = Model::from(inner)
            .into_record()
            .into_bytes()
            .unwrap()
            .to_vec();
        assert_ne!(
            direct, wrapped,
            "the enum's tensor paths carry the variant name"
        );
        for weights in [direct, wrapped] {
            let loaded = Model::load_weights(&spec, &weights, &device).unwrap();
            let got = crate::metrics::HostPrediction::read(loaded.predict(x.clone())).unwrap();
            assert_eq!(got, want);
        }
    }
}
