//! What a model sees of the data: shapes, tasks and batches of tensors.

use burn::tensor::{Int, Tensor};

/// What the target column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Task {
    /// A numeric target.
    Regression,
    /// Class labels `0..n_classes`.
    Classification {
        /// Number of classes (at least 2 for a classifier).
        n_classes: usize,
    },
}

/// The shape of a data set, enough to build a model for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataShape {
    /// Number of feature columns.
    pub n_features: usize,
    /// What the target holds.
    pub task: Task,
}

/// Targets of a batch, on the same device as its features.
#[derive(Clone, Debug)]
pub enum Targets {
    /// Regression targets, shape `[n, 1]`.
    Values(Tensor<2>),
    /// Class indices, shape `[n]`.
    Classes(Tensor<1, Int>),
}

/// Features `x` (`[n, n_features]`) and their targets.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Features, shape `[n, n_features]`.
    pub x: Tensor<2>,
    /// Targets of the same `n` rows.
    pub targets: Targets,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.x.dims()[0]
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same rows on the autodiff device (a graph can then start from them).
    pub fn autodiff(self) -> Batch {
        Batch {
            x: self.x.autodiff(),
            targets: match self.targets {
                Targets::Values(y) => Targets::Values(y.autodiff()),
                Targets::Classes(c) => Targets::Classes(c.autodiff()),
            },
        }
    }

    /// Rows `start..start + len`, without copying.
    pub fn narrow(&self, start: usize, len: usize) -> Batch {
        Batch {
            x: self.x.clone().narrow(0, start, len),
            targets: match &self.targets {
                Targets::Values(y) => Targets::Values(y.clone().narrow(0, start, len)),
                Targets::Classes(c) => Targets::Classes(c.clone().narrow(0, start, len)),
            },
        }
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: Tensor<1, Int>) -> Batch {
        Batch {
            x: self.x.clone().select(0, indices.clone()),
            targets: match &self.targets {
                Targets::Values(y) => Targets::Values(y.clone().select(0, indices)),
                Targets::Classes(c) => Targets::Classes(c.clone().select(0, indices)),
            },
        }
    }
}

/// Reads a float tensor back to the host as `f32`s, row-major.
pub fn read_f32<const D: usize>(
    tensor: Tensor<D>,
) -> Result<alloc::vec::Vec<f32>, crate::FitError> {
    tensor
        .try_into_data()
        .map_err(|e| crate::FitError::Device(alloc::format!("{e:?}")))?
        .try_into_vec_as::<f32>()
        .map_err(|e| crate::FitError::Device(alloc::format!("{e:?}")))
}
