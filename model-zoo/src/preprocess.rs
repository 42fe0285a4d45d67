//! The fitted preprocessing saved with a model: which columns it reads, how it scales them,
//! and the names of its classes. Training fits it once on the training rows; evaluation,
//! prediction, the deployment file and firmware all apply this same code to raw rows.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::data::Task;
#[cfg(feature = "tables")]
use crate::table::{Cell, RowError, TableEncoding};

/// What a model needs besides its weights to turn raw rows into predictions: the feature
/// columns, their scaling, and the class names.
///
/// ```
/// use kiln_model_zoo::preprocess::Preprocessing;
///
/// let prep = Preprocessing {
///     feature_names: vec!["a".into(), "b".into()],
///     target: Some("y".into()),
///     class_names: Some(vec!["no".into(), "yes".into()]),
///     mean: vec![1.0, 10.0],
///     scale: vec![2.0, 5.0],
///     ..Preprocessing::identity(vec![], None)
/// };
/// let mut rows = [3.0, 20.0, 1.0, 0.0];
/// prep.transform(&mut rows);
/// assert_eq!(rows, [1.0, 2.0, 0.0, -2.0]);
/// assert_eq!(prep.class_index("yes"), Some(1));
/// assert_eq!(prep.class_name(0), Some("no"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// The feature columns, in the order the model takes them.
    pub feature_names: Vec<String>,
    /// The target column (absent for unsupervised models).
    pub target: Option<String>,
    /// Class names, in the order of the model's outputs (classifiers only).
    pub class_names: Option<Vec<String>>,
    /// Per-feature mean subtracted before prediction (0 when not standardizing).
    pub mean: Vec<f32>,
    /// Per-feature scale divided by after the mean (1 when not standardizing).
    pub scale: Vec<f32>,
    /// How the table's raw columns become the features (absent in models saved before
    /// tables had encodings: every feature is then a numeric column of its own).
    #[cfg(feature = "tables")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableEncoding>,
}

impl Preprocessing {
    /// No scaling of `feature_names`, and the given class names.
    pub fn identity(feature_names: Vec<String>, class_names: Option<Vec<String>>) -> Self {
        let d = feature_names.len();
        Self {
            feature_names,
            target: None,
            class_names,
            mean: alloc::vec![0.0; d],
            scale: alloc::vec![1.0; d],
            #[cfg(feature = "tables")]
            table: None,
        }
    }

    /// How raw rows become features: the fitted table encoding, or each feature a numeric
    /// column as it is.
    #[cfg(feature = "tables")]
    pub fn encoding(&self) -> alloc::borrow::Cow<'_, TableEncoding> {
        match &self.table {
            Some(table) => alloc::borrow::Cow::Borrowed(table),
            None => alloc::borrow::Cow::Owned(TableEncoding::numeric(&self.feature_names)),
        }
    }

    /// Encodes and scales one raw row (`cells[i]` of the encoding's column `i`) into `out`
    /// ([`Preprocessing::n_features`] values); returns how many of its categories training
    /// never saw.
    #[cfg(feature = "tables")]
    pub fn encode_row(&self, cells: &[Cell<'_>], out: &mut [f32]) -> Result<usize, RowError> {
        let unseen = self.encoding().encode(cells, out)?;
        self.transform(out);
        Ok(unseen)
    }

    /// The number of features the model takes.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The task the data poses: classification when there are class names.
    pub fn task(&self) -> Task {
        match &self.class_names {
            Some(names) => Task::Classification {
                n_classes: names.len(),
            },
            None => Task::Regression,
        }
    }

    /// Scales raw rows (row-major, [`Preprocessing::n_features`] values each) in place.
    pub fn transform(&self, x: &mut [f32]) {
        let d = self.mean.len();
        if d == 0 {
            return;
        }
        for row in x.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
    }

    /// The model's output index of the class named `label`, if it is one of the classes.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.class_names.as_ref()?.iter().position(|c| c == label)
    }

    /// The name of class `index`.
    pub fn class_name(&self, index: usize) -> Option<&str> {
        self.class_names.as_ref()?.get(index).map(String::as_str)
    }
}
