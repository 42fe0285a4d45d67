//! A model of a user's own, not in kiln's zoo: a two-tower classifier. The features are split
//! in two groups; each group goes through a tower of its own (a dense layer and a ReLU), and a
//! head reads both towers' outputs side by side. On iris the towers see the sepal and the
//! petal measurements apart.
//!
//! It is an ordinary burn `Module` plus an `Estimator` impl: that is all kiln needs to train
//! it with its own loop (optimizer, schedule, early stopping, checkpoints, resume) and to add
//! `kind = "two_tower"` to the `kiln` command line.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Device, Tensor};
// Whole sums through `SumAll`: a GPU's own `sum()` adds in a varying order, and a resumed
// run must end where an uninterrupted one does.
use kiln_model_zoo::linalg::SumAll;
use kiln_model_zoo::{
    Batch, ConfigError, DataShape, Estimator, FitError, Output, Prediction, Supervision, Targets,
    Task,
};
use serde::{Deserialize, Serialize};

/// `[model]` keys of `kind = "two_tower"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwoTowerConfig {
    /// Features in the first tower (the rest go to the second); default: half of them.
    pub split: Option<usize>,
    /// Units of each tower (default 16).
    pub hidden: usize,
}

impl Default for TwoTowerConfig {
    fn default() -> Self {
        Self {
            split: None,
            hidden: 16,
        }
    }
}

/// The config checked against the data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoTowerParams {
    pub split: usize,
    pub hidden: usize,
    pub n_features: usize,
    pub n_classes: usize,
}

/// Two towers and a head.
#[derive(Module, Debug)]
pub struct TwoTower {
    pub left: Linear,
    pub right: Linear,
    pub head: Linear,
    #[module(skip)]
    pub params: TwoTowerParams,
}

impl TwoTower {
    /// Class logits, `[n, n_classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let p = self.params;
        let left = relu(self.left.forward(x.clone().narrow(1, 0, p.split)));
        let right = relu(
            self.right
                .forward(x.narrow(1, p.split, p.n_features - p.split)),
        );
        self.head.forward(Tensor::cat(vec![left, right], 1))
    }
}

impl Estimator for TwoTower {
    type Config = TwoTowerConfig;
    type Params = TwoTowerParams;
    const KINDS: &'static [&'static str] = &["two_tower"];

    fn supervision(_: &TwoTowerConfig) -> Supervision {
        Supervision::Labels
    }

    fn check(config: &TwoTowerConfig, shape: &DataShape) -> Result<TwoTowerParams, ConfigError> {
        let Task::Classification { n_classes } = shape.task else {
            return Err(ConfigError::NeedsClassTarget { model: "two_tower" });
        };
        if n_classes < 2 {
            return Err(ConfigError::TooFewClasses {
                model: "two_tower",
                found: n_classes,
            });
        }
        let split = config.split.unwrap_or(shape.n_features / 2);
        if split == 0 || split >= shape.n_features {
            return Err(ConfigError::Invalid {
                key: "split",
                message: format!(
                    "`split` must leave features to both towers: 1 to {}, got {split}",
                    shape.n_features.saturating_sub(1)
                ),
            });
        }
        if config.hidden == 0 {
            return Err(ConfigError::Invalid {
                key: "hidden",
                message: "`hidden` must be at least 1".into(),
            });
        }
        Ok(TwoTowerParams {
            split,
            hidden: config.hidden,
            n_features: shape.n_features,
            n_classes,
        })
    }

    fn output(_: &TwoTowerParams) -> Output {
        Output::Probabilities
    }

    /// The loss is a mean over rows, so the trainer may split a batch across threads.
    fn loss_splits_by_rows(_: &TwoTowerParams) -> bool {
        true
    }

    /// Random weights, drawn from the device's seeded generator.
    fn init(p: &TwoTowerParams, device: &Device) -> Self {
        Self {
            left: LinearConfig::new(p.split, p.hidden).init(device),
            right: LinearConfig::new(p.n_features - p.split, p.hidden).init(device),
            head: LinearConfig::new(2 * p.hidden, p.n_classes).init(device),
            params: *p,
        }
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Probabilities(softmax(self.forward(x), 1))
    }

    /// Mean cross-entropy.
    fn loss(&self, batch: &Batch, _n_train: usize) -> Result<Tensor<1>, FitError> {
        let Targets::Classes(classes) = &batch.targets else {
            return Err(FitError::WrongTargets {
                model: "two_tower",
                needs: "class labels",
            });
        };
        let y = classes.clone().one_hot::<2>(self.params.n_classes).float();
        let log_p = log_softmax(self.forward(batch.x.clone()), 1);
        Ok((log_p * y)
            .sum_all()
            .neg()
            .div_scalar(batch.len().max(1) as f64))
    }
}
