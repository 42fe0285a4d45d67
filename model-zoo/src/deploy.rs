//! The deployment file `kiln export` writes and firmware loads with `include_bytes!`: a trained
//! model and its preprocessing in one buffer, decoded the same way with or without std.
//!
//! Layout (little-endian):
//! ```text
//! b"KILNDEP2"        magic and format version
//! u32 header_len     then header_len bytes of JSON: model config, data shape, preprocessing
//! u32 weights_len    then weights_len bytes of burnpack (the model's parameters)
//! u32 crc32          the CRC-32 of every byte before it
//! ```
//! A file whose checksum does not match is refused ([`DeployError::Checksum`]): a damaged
//! model would load and predict garbage.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use burn::tensor::{Device, Tensor, TensorData};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::{DataShape, read_f32};
use crate::estimator::Estimator;
use crate::fit::Prediction;
use crate::model::ModelConfig;
use crate::preprocess::Preprocessing;
#[cfg(feature = "tables")]
use crate::table::Cell;

const MAGIC: &[u8; 8] = b"KILNDEP2";

/// What a device needs besides the weights to turn a raw input row into a prediction: the
/// model's config (`C`: the zoo's [`ModelConfig`], or a user model's own config type), the
/// data's shape, and the preprocessing fitted with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment<C = ModelConfig> {
    /// The model's config.
    pub model: C,
    /// The shape of the data it was fitted on.
    pub shape: DataShape,
    /// The feature scaling and class names fitted with the model.
    pub preprocessing: Preprocessing,
}

/// Why a deployment buffer cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeployError {
    /// The buffer does not start with a deployment file's magic bytes.
    #[error(
        "not a kiln deployment file of this version (bad magic); export it again with `kiln export`"
    )]
    BadMagic,
    /// The buffer ends before its blocks do.
    #[error("the deployment file is truncated")]
    Truncated,
    /// The bytes are not those written: the file is damaged.
    #[error("the deployment file is damaged: its checksum does not match; export it again")]
    Checksum,
    /// The JSON header does not parse.
    #[error("the deployment header is not valid: {0}")]
    Header(String),
    /// The model's config does not fit the data shape.
    #[error("the deployment's model is not valid: {0}")]
    Model(String),
    /// The weights do not load into the model.
    #[error("the deployment's weights do not load: {0}")]
    Weights(String),
    /// An input row has the wrong number of values.
    #[error("an input row has {got} values, the model takes {want}")]
    RowLength {
        /// Values in the row.
        got: usize,
        /// Values the model takes.
        want: usize,
    },
    /// A raw row the model's table encoding cannot encode.
    #[cfg(feature = "tables")]
    #[error("{0}")]
    Row(#[from] crate::table::RowError),
    /// Reading a prediction back failed.
    #[error("{0}")]
    Fit(#[from] crate::FitError),
}

impl<C: Serialize + DeserializeOwned> Deployment<C> {
    /// The deployment file for `model`.
    pub fn encode<M: Estimator<Config = C>>(&self, model: &M) -> Result<Vec<u8>, DeployError> {
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
        let checksum = crc32(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        Ok(out)
    }

    /// Decodes a deployment file and loads its model onto `device`.
    pub fn decode<M: Estimator<Config = C>>(
        bytes: &[u8],
        device: &Device,
    ) -> Result<(Self, M), DeployError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(DeployError::BadMagic)?;
        // The checksum first: nothing of a damaged file is read.
        let (_, checksum) = rest.split_last_chunk::<4>().ok_or(DeployError::Truncated)?;
        if crc32(&bytes[..bytes.len() - 4]) != u32::from_le_bytes(*checksum) {
            return Err(DeployError::Checksum);
        }
        let (header, rest) = take_block(rest)?;
        let (weights, _) = take_block(rest)?;
        let deployment: Self =
            serde_json::from_slice(header).map_err(|e| DeployError::Header(e.to_string()))?;
        let params = M::check(&deployment.model, &deployment.shape)
            .map_err(|e| DeployError::Model(e.to_string()))?;
        crate::estimator::check_shape_fits::<M>(&params, &deployment.shape, weights)
            .map_err(|e| DeployError::Weights(alloc::format!("{e:?}")))?;
        let model = M::load_weights(&params, weights, device)
            .map_err(|e| DeployError::Weights(alloc::format!("{e:?}")))?;
        Ok((deployment, model))
    }

    /// Predicts one raw (unscaled) input row. One row at a time keeps every matmul a
    /// matrix-vector product, which on a microcontroller allocates no large scratch buffer.
    pub fn predict_row<M: Estimator>(
        &self,
        model: &M,
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
        let mut scaled = row.to_vec();
        self.preprocessing.transform(&mut scaled);
        self.predict_scaled(model, scaled, device)
    }

    /// Predicts one raw table row: its cells as the table has them, in the order of the
    /// preprocessing's columns (category names, missing cells and all), encoded and scaled as
    /// in training.
    #[cfg(feature = "tables")]
    pub fn predict_cells<M: Estimator>(
        &self,
        model: &M,
        cells: &[Cell<'_>],
        device: &Device,
    ) -> Result<Vec<f32>, DeployError> {
        let want = self.shape.n_features;
        let mut scaled = alloc::vec![0.0; want];
        let encoding = self.preprocessing.encoding();
        if encoding.width() != want {
            return Err(DeployError::RowLength {
                got: encoding.width(),
                want,
            });
        }
        self.preprocessing.encode_row(cells, &mut scaled)?;
        self.predict_scaled(model, scaled, device)
    }

    fn predict_scaled<M: Estimator>(
        &self,
        model: &M,
        scaled: Vec<f32>,
        device: &Device,
    ) -> Result<Vec<f32>, DeployError> {
        let x = Tensor::<2>::from_data(TensorData::new(scaled, [1, self.shape.n_features]), device);
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

/// The IEEE CRC-32 (as zlib and crc32fast compute it), bit by bit: no table in the firmware.
fn crc32(bytes: &[u8]) -> u32 {
    const CRC: crc::Crc<u32, crc::NoTable> =
        crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);
    CRC.checksum(bytes)
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
    use crate::estimator::fresh;
    use crate::model::{Model, ModelSpec};
    use crate::testing::for_each_device;

    /// The check value of the IEEE CRC-32 (zlib's, crc32fast's): the firmware and the host
    /// compute the same checksum.
    #[test]
    fn the_checksum_is_the_ieee_crc32() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    #[cfg(feature = "logistic-regression")]
    fn round_trip_predicts_the_same_and_bad_buffers_are_errors() {
        for_each_device(|device| {
            let shape = DataShape {
                n_features: 2,
                task: Task::Classification { n_classes: 3 },
            };
            let config =
                Model::read_config(serde_json::json!({"kind": "logistic_regression"})).unwrap();
            let params = Model::check(&config, &shape).unwrap();
            let ModelSpec::LogisticRegression(inner) = &params else {
                unreachable!("a logistic regression")
            };
            let mut model: crate::logistic_regression::LogisticRegression = fresh(inner, device);
            model.linear.weight = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(alloc::vec![0.5f32, -1.0, 2.0, 1.5, 0.25, -0.75], [2, 3]),
                device,
            ));
            let model = Model::from(model);
            let deployment = Deployment {
                model: config,
                shape,
                preprocessing: Preprocessing {
                    feature_names: alloc::vec!["u".into(), "v".into()],
                    target: Some("class".into()),
                    class_names: Some(["a", "b", "c"].iter().map(|s| s.to_string()).collect()),
                    mean: alloc::vec![1.0, 2.0],
                    scale: alloc::vec![2.0, 0.5],
                    ..Preprocessing::identity(alloc::vec![], None)
                },
            };
            let bytes = deployment.encode(&model).unwrap();
            let (decoded, loaded) = Deployment::decode::<Model>(&bytes, device).unwrap();
            assert_eq!(decoded, deployment);
            let row = [3.0, 1.0];
            let want = deployment.predict_row(&model, &row, device).unwrap();
            assert_eq!(decoded.predict_row(&loaded, &row, device).unwrap(), want);
            assert!((want.iter().sum::<f32>() - 1.0).abs() < 1e-6);

            assert_eq!(
                Deployment::decode::<Model>(b"nope", device).unwrap_err(),
                DeployError::BadMagic
            );
            assert_eq!(
                Deployment::decode::<Model>(&bytes[..bytes.len() - 1], device).unwrap_err(),
                DeployError::Checksum
            );
            assert_eq!(
                Deployment::decode::<Model>(&bytes[..10], device).unwrap_err(),
                DeployError::Truncated
            );
            for at in [8, 20, bytes.len() / 2, bytes.len() - 1] {
                let mut damaged = bytes.clone();
                damaged[at] ^= 0x01;
                assert_eq!(
                    Deployment::decode::<Model>(&damaged, device).unwrap_err(),
                    DeployError::Checksum,
                    "byte {at}"
                );
            }
            assert_eq!(
                decoded.predict_row(&loaded, &[1.0], device).unwrap_err(),
                DeployError::RowLength { got: 1, want: 2 }
            );
        });
    }
}
