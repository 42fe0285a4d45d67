//! Multi-layer perceptron: a classifier (softmax over the classes, cross-entropy) or a regressor
//! (one output, mean squared error), chosen by the target column.
//!
//! Weights start from burn's default (Kaiming-uniform, as PyTorch's `nn.Linear`), drawn from the
//! device's seeded RNG; weight decay comes from the optimizer (`[train.optimizer] weight_decay`).

use alloc::vec::Vec;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, log_softmax, relu, sigmoid, softmax, tanh};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, Task};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::estimator::{Estimator, Output, Supervision};
use crate::fit::Prediction;
use crate::linalg::SumAll;

const NAME: &str = "mlp";

/// The non-linearity between hidden layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)` (default).
    #[default]
    Relu,
    /// The Gaussian error linear unit, `x·Φ(x)`.
    Gelu,
    /// The hyperbolic tangent.
    Tanh,
    /// The logistic sigmoid, `1 / (1 + e⁻ˣ)`.
    Sigmoid,
}

impl Activation {
    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Relu => relu(x),
            Self::Gelu => gelu(x),
            Self::Tanh => tanh(x),
            Self::Sigmoid => sigmoid(x),
        }
    }
}

/// What the network predicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MlpTask {
    /// Class labels: softmax outputs, cross-entropy loss.
    #[default]
    Classification,
    /// A number: one linear output, mean squared error.
    Regression,
}

/// `[model]` keys of `kind = "mlp"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// `"classification"` (default) or `"regression"`: how the target column is read.
    pub task: MlpTask,
    /// Widths of the hidden layers, input side first (default `[64]`).
    pub hidden: Vec<usize>,
    /// `"relu"` (default), `"gelu"`, `"tanh"` or `"sigmoid"`.
    pub activation: Activation,
    /// Probability of zeroing a hidden unit during training (default 0).
    pub dropout: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            task: MlpTask::Classification,
            hidden: alloc::vec![64],
            activation: Activation::Relu,
            dropout: 0.0,
        }
    }
}

/// Checked parameters of an MLP for a given data shape.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpParams {
    /// Layer widths from the input to the output: `[n_features, hidden..., outputs]`.
    pub widths: Vec<usize>,
    /// The non-linearity between hidden layers.
    pub activation: Activation,
    /// Probability of zeroing a hidden unit during training, in `[0, 1)`.
    pub dropout: f64,
    /// `Some(n_classes)` for a classifier, `None` for a regressor.
    pub n_classes: Option<usize>,
}

impl MlpConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<MlpParams, ConfigError> {
        if self.hidden.contains(&0) {
            return Err(ConfigError::Invalid {
                key: "hidden",
                message: alloc::format!(
                    "`hidden` widths must be >= 1, got {:?}; drop the 0 to remove a layer",
                    self.hidden
                ),
            });
        }
        let dropout = check_non_negative("dropout", self.dropout)?;
        if dropout >= 1.0 {
            return Err(ConfigError::Invalid {
                key: "dropout",
                message: alloc::format!("`dropout` must be below 1, got {dropout}"),
            });
        }
        let (outputs, n_classes) = match shape.task {
            Task::Classification { n_classes } if n_classes < 2 => {
                return Err(ConfigError::TooFewClasses {
                    model: NAME,
                    found: n_classes,
                });
            }
            Task::Classification { n_classes } => (n_classes, Some(n_classes)),
            Task::Regression => (1, None),
        };
        let mut widths = alloc::vec![shape.n_features];
        widths.extend(&self.hidden);
        widths.push(outputs);
        Ok(MlpParams {
            widths,
            activation: self.activation,
            dropout,
            n_classes,
        })
    }
}

/// Dense layers with a non-linearity (and dropout) between them.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The dense layers, input side first: layer `i` maps `widths[i]` to `widths[i + 1]`.
    pub layers: Vec<Linear>,
    /// Dropout applied to the hidden activations during training.
    pub dropout: Dropout,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: MlpParams,
}

impl Mlp {
    /// A randomly initialised network (seed the device for a reproducible start).
    pub fn new(params: MlpParams, device: &Device) -> Self {
        let layers = params
            .widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self {
            layers,
            dropout: DropoutConfig::new(params.dropout).init(),
            params,
        }
    }

    /// The network's raw outputs: class logits `[n, n_classes]` or values `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let h = layer.forward(h);
            if i == last {
                h
            } else {
                // Dropout only acts on an autodiff device, i.e. while training.
                self.dropout.forward(self.params.activation.apply(h))
            }
        })
    }
}

impl Estimator for Mlp {
    type Config = MlpConfig;
    type Params = MlpParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(config: &MlpConfig) -> Supervision {
        match config.task {
            MlpTask::Classification => Supervision::Labels,
            MlpTask::Regression => Supervision::Values,
        }
    }

    fn check(config: &MlpConfig, shape: &DataShape) -> Result<MlpParams, ConfigError> {
        config.check(shape)
    }

    fn output(params: &MlpParams) -> Output {
        match params.n_classes {
            Some(_) => Output::Probabilities,
            None => Output::Values,
        }
    }

    fn loss_splits_by_rows(_: &MlpParams) -> bool {
        true
    }

    /// Dropout draws its masks from the device's generator.
    fn is_stochastic(params: &MlpParams) -> bool {
        params.dropout > 0.0
    }

    fn init(params: &MlpParams, device: &Device) -> Self {
        Self::new(params.clone(), device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        match self.params.n_classes {
            Some(_) => Prediction::Probabilities(softmax(self.forward(x), 1)),
            None => Prediction::Values(self.forward(x)),
        }
    }

    /// Mean cross-entropy (classifier) or mean squared error (regressor) of the batch.
    fn loss(&self, batch: &Batch, _n_train: usize) -> Result<Tensor<1>, FitError> {
        let out = self.forward(batch.x.clone());
        match (&batch.targets, self.params.n_classes) {
            (Targets::Classes(classes), Some(n_classes)) => {
                let y = crate::linalg::one_hot(classes.clone(), n_classes);
                Ok((log_softmax(out, 1) * y)
                    .sum_all()
                    .neg()
                    .div_scalar(batch.len().max(1) as f64))
            }
            (Targets::Values(y), None) => Ok(crate::linalg::mean_all((out - y.clone()).square())),
            (_, Some(_)) => Err(FitError::WrongTargets {
                model: NAME,
                needs: "class labels",
            }),
            (_, None) => Err(FitError::WrongTargets {
                model: NAME,
                needs: "numeric targets",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_f32;
    use crate::estimator::seeded;
    use crate::testing::{classification_batch, for_each_device, minimize, regression_batch};

    fn params(hidden: &[usize], activation: Activation, task: Task) -> MlpParams {
        MlpConfig {
            task: match task {
                Task::Regression => MlpTask::Regression,
                Task::Classification { .. } => MlpTask::Classification,
            },
            hidden: hidden.to_vec(),
            activation,
            dropout: 0.0,
        }
        .check(&DataShape {
            n_features: 2,
            task,
        })
        .unwrap()
    }

    /// XOR: no linear model separates it, one hidden layer does.
    const XOR_X: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    const XOR_Y: [usize; 4] = [0, 1, 1, 0];

    #[test]
    fn classifier_learns_xor_with_every_activation() {
        for_each_device(|device| {
            for activation in [
                Activation::Relu,
                Activation::Gelu,
                Activation::Tanh,
                Activation::Sigmoid,
            ] {
                let ad = device.clone().autodiff();
                let batch = classification_batch(&XOR_X, &XOR_Y, 2, &ad);
                let task = Task::Classification { n_classes: 2 };
                let model = seeded(device, 7, || Mlp::new(params(&[8], activation, task), &ad));
                let model = minimize(model, 120, 0.1, |m| m.loss(&batch, 0).unwrap());
                let Prediction::Probabilities(p) = model
                    .valid()
                    .predict(crate::testing::features(&XOR_X, 2, device))
                else {
                    panic!("a classifier predicts probabilities")
                };
                let p = read_f32(p).unwrap();
                let pred = crate::metrics::argmax_rows(&p, 2);
                assert_eq!(pred, XOR_Y, "{device:?} {activation:?}: {p:?}");
            }
        });
    }

    #[test]
    fn regressor_fits_a_curve_and_two_hidden_layers_stack() {
        // y = x0² − x1 on a grid: non-linear in x0.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..8 {
            for j in 0..4 {
                let (a, b) = (i as f32 / 4.0 - 1.0, j as f32 / 2.0 - 0.75);
                x.extend([a, b]);
                y.push(a * a - b);
            }
        }
        for_each_device(|device| {
            let ad = device.clone().autodiff();
            let batch = regression_batch(&x, &y, 2, &ad);
            let p = params(&[32, 16], Activation::Tanh, Task::Regression);
            let model = seeded(device, 3, || Mlp::new(p, &ad));
            assert_eq!(model.layers.len(), 3);
            let model = minimize(model, 400, 0.03, |m| m.loss(&batch, 0).unwrap());
            let mse = read_f32(model.loss(&batch, 0).unwrap()).unwrap()[0];
            // The variance of y is about 0.2; the best linear fit leaves about 0.09.
            assert!(mse < 1e-2, "{device:?}: mse {mse}");
        });
    }

    /// A seeded start is the same while another thread seeds and builds models on the same
    /// device. burn draws a parameter's random start when it is first read, not when the
    /// model is built; read after the lock was let go, such a draw could come from another
    /// fit's seed (a resumed fit then ended elsewhere than an uninterrupted one).
    #[test]
    fn a_seeded_start_holds_while_other_threads_seed_and_build() {
        let device = Device::flex();
        let p = params(&[64], Activation::Relu, Task::Regression);
        let start = |seed: u64| {
            let model: Mlp = seeded(&device, seed, || crate::estimator::fresh(&p, &device));
            model.into_record().into_bytes().unwrap().to_vec()
        };
        let want = start(5);
        let done = std::sync::atomic::AtomicBool::new(false);
        let changed = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    start(9);
                }
            });
            let changed = (0..200).filter(|_| start(5) != want).count();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            changed
        });
        assert_eq!(
            changed, 0,
            "starts out of 200 that drew from the other seed"
        );
    }

    #[test]
    fn dropout_is_active_only_while_training() {
        for_each_device(|device| {
            let mut p = params(&[64], Activation::Relu, Task::Regression);
            p.dropout = 0.5;
            let ad = device.clone().autodiff();
            let x = crate::testing::features(&[0.5, -0.5], 2, &ad);
            let (model, a, b) = seeded(device, 1, || {
                let model = Mlp::new(p, &ad);
                let a = read_f32(model.forward(x.clone())).unwrap();
                let b = read_f32(model.forward(x.clone())).unwrap();
                (model, a, b)
            });
            assert_ne!(a, b, "{device:?}: dropout draws a new mask each pass");
            let plain = model.valid();
            let x = crate::testing::features(&[0.5, -0.5], 2, device);
            let a = read_f32(plain.forward(x.clone())).unwrap();
            let b = read_f32(plain.forward(x)).unwrap();
            assert_eq!(a, b, "{device:?}: no dropout at inference");
        });
    }

    #[test]
    fn config_rules() {
        let shape = DataShape {
            n_features: 3,
            task: Task::Classification { n_classes: 4 },
        };
        let p = MlpConfig::default().check(&shape).unwrap();
        assert_eq!(p.widths, [3, 64, 4]);
        let bad = |c: MlpConfig| c.check(&shape).unwrap_err().key();
        let zero_width = MlpConfig {
            hidden: alloc::vec![8, 0],
            ..Default::default()
        };
        assert_eq!(bad(zero_width), Some("hidden"));
        let dropout_one = MlpConfig {
            dropout: 1.0,
            ..Default::default()
        };
        assert_eq!(bad(dropout_one), Some("dropout"));
        let no_hidden = MlpConfig {
            hidden: Vec::new(),
            ..Default::default()
        };
        // No hidden layer is a valid (linear) model.
        assert_eq!(no_hidden.check(&shape).unwrap().widths, [3, 4]);
    }
}
