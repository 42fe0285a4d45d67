//! The deployment file `kiln export` writes and firmware loads with `include_bytes!`: a trained
//! model and its preprocessing in one buffer, decoded the same way with or without std.
//!
//! Layout (little-endian):
//! ```text
//! b"KILNDEP1"        magic and format version
//! u32 header_len     then header_len bytes of JSON: model config, data shape, scaling, labels
//! u32 weights_len    then weights_len bytes of burnpack (the model's parameters)
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{DataShape, read_f32};
use crate::fit::Prediction;
use crate::model::{Model, ModelConfig};

const MAGIC: &[u8; 8] = b"KILNDEP1";

/// What a device needs besides the weights to turn a raw input row into a prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub model: ModelConfig,
    pub shape: DataShape,
    /// Per-feature mean subtracted from a raw row.
    pub mean: Vec<f32>,
    /// Per-feature scale the centred row is divided by.
    pub scale: Vec<f32>,
    /// Class names in output order (classifiers).
    pub class_names: Option<Vec<String>>,
}

/// Why a deployment buffer cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeployError {
    #[error("not a kiln deployment file (bad magic); export one with `kiln export`")]
    BadMagic,
    #[error("the deployment file is truncated")]
    Truncated,
    #[error("the deployment header is not valid: {0}")]
    Header(String),
    #[error("the deployment's model is not valid: {0}")]
    Model(String),
    #[error("the deployment's weights do not load: {0}")]
    Weights(String),
    #[error("an input row has {got} values, the model takes {want}")]
    RowLength { got: usize, want: usize },
    #[error("{0}")]
    Fit(#[from] crate::FitError),
}

impl Deployment {
    /// The deployment file for `model`.
    pub fn encode(&self, model: &Model) -> Result<Vec<u8>, DeployError> {
        let weights = model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| DeployError::Weights(alloc::format!("{e:?}")))?;
        self.encode_weights(&weights)
    }

    /// The deployment file for weights already in burnpack form (a run's `model.bpk`).
    pub fn encode_weights(&self, weights: &[u8]) -> Result<Vec<u8>, DeployError> {
        let header = serde_json::to_vec(self).map_err(|e| DeployError::Header(e.to_string()))?;
        let mut out = Vec::with_capacity(16 + header.len() + weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(weights.len() as u32).to_le_bytes());
        out.extend_from_slice(weights);
        Ok(out)
    }

    /// Decodes a deployment file and loads its model onto `device`.
    pub fn decode(bytes: &[u8], device: &Device) -> Result<(Self, Model), DeployError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(DeployError::BadMagic)?;
        let (header, rest) = take_block(rest)?;
        let (weights, _) = take_block(rest)?;
        let deployment: Self =
            serde_json::from_slice(header).map_err(|e| DeployError::Header(e.to_string()))?;
        let spec = deployment
            .model
            .check(&deployment.shape)
            .map_err(|e| DeployError::Model(e.to_string()))?;
        let model = spec
            .load(weights, device)
            .map_err(|e| DeployError::Weights(alloc::format!("{e:?}")))?;
        Ok((deployment, model))
    }

    /// Predicts one raw (unscaled) input row. One row at a time keeps every matmul a
    /// matrix-vector product, which on a microcontroller allocates no large scratch buffer.
    pub fn predict_row(
        &self,
        model: &Model,
        row: &[f32],
        device: &Device,
    ) -> Result<Vec<f32>, DeployError> {
        let want = self.shape.n_features;
        if row.len() != want {
            return Err(DeployError::RowLength {
                got: row.len(),
                want,
            });
        }
        let scaled: Vec<f32> = row
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((v, m), s)| (v - m) / s)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(scaled, [1, want]), device);
        Ok(match model.predict(x) {
            Prediction::Values(v)
            | Prediction::Probabilities(v)
            | Prediction::Scores(v)
            | Prediction::Clusters(v)
            | Prediction::Memberships(v)
            // A Gaussian process: the predictive mean, then its standard deviation.
            | Prediction::Gaussian(v) => read_f32(v)?,
        })
    }
}

fn take_block(bytes: &[u8]) -> Result<(&[u8], &[u8]), DeployError> {
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or(DeployError::Truncated)?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(DeployError::Truncated);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::testing::for_each_device;

    #[test]
    #[cfg(feature = "logistic-regression")]
    fn round_trip_predicts_the_same_and_bad_buffers_are_errors() {
        for_each_device(|device| {
            let shape = DataShape {
                n_features: 2,
                task: Task::Classification { n_classes: 3 },
            };
            use crate::logistic_regression::LogisticRegressionConfig;
            let config = ModelConfig::LogisticRegression(LogisticRegressionConfig::default());
            let mut model = config.check(&shape).unwrap().init(device);
            if let Model::LogisticRegression(m) = &mut model {
                m.linear.weight = burn::module::Param::from_tensor(Tensor::from_data(
                    TensorData::new(alloc::vec![0.5f32, -1.0, 2.0, 1.5, 0.25, -0.75], [2, 3]),
                    device,
                ));
            }
            let deployment = Deployment {
                model: config,
                shape,
                mean: alloc::vec![1.0, 2.0],
                scale: alloc::vec![2.0, 0.5],
                class_names: Some(["a", "b", "c"].iter().map(|s| s.to_string()).collect()),
            };
            let bytes = deployment.encode(&model).unwrap();
            let (decoded, loaded) = Deployment::decode(&bytes, device).unwrap();
            assert_eq!(decoded, deployment);
            let row = [3.0, 1.0];
            let want = deployment.predict_row(&model, &row, device).unwrap();
            assert_eq!(decoded.predict_row(&loaded, &row, device).unwrap(), want);
            assert!((want.iter().sum::<f32>() - 1.0).abs() < 1e-6);

            assert_eq!(
                Deployment::decode(b"nope", device).unwrap_err(),
                DeployError::BadMagic
            );
            assert_eq!(
                Deployment::decode(&bytes[..bytes.len() - 1], device).unwrap_err(),
                DeployError::Truncated
            );
            assert_eq!(
                decoded.predict_row(&loaded, &[1.0], device).unwrap_err(),
                DeployError::RowLength { got: 1, want: 2 }
            );
        });
    }
}
