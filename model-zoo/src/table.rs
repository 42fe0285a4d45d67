//! How a raw table's cells become a model's features: which columns the model reads, how each
//! turns into numbers (a number as it is, a category one-hot or as its index) and what a missing
//! cell becomes. The trainer fits a [`TableEncoding`] once, on the training rows; evaluation,
//! prediction, the deployment file and firmware then all encode rows with this same code.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The cell texts that mean "missing" unless a config says otherwise (compared ignoring ASCII
/// case, so `na` and `NULL` count too).
pub const DEFAULT_MISSING_VALUES: [&str; 6] = ["", "NA", "N/A", "NaN", "null", "?"];

/// The name of the feature that marks a missing cell: the one-hot column of a missing
/// category, or a missing-indicator column.
pub const MISSING_FEATURE: &str = "(missing)";

/// The name of the one-hot feature of the rare categories folded together.
pub const OTHER_FEATURE: &str = "(other)";

/// The fitted encoding of a table: one [`ColumnEncoding`] per raw column read, in the order
/// their features come.
///
/// ```
/// use kiln_model_zoo::table::{Cell, ColumnEncoding, ColumnKind, Missing, TableEncoding};
///
/// let table = TableEncoding {
///     columns: vec![
///         ColumnEncoding {
///             name: "island".into(),
///             kind: ColumnKind::OneHot { categories: vec!["Biscoe".into(), "Dream".into()], other: vec![] },
///             missing: Missing::OwnCategory,
///             indicator: false,
///         },
///         ColumnEncoding {
///             name: "mass".into(),
///             kind: ColumnKind::Numeric,
///             missing: Missing::Value(4200.0),
///             indicator: true,
///         },
///     ],
///     missing_values: vec!["".into(), "NA".into()],
/// };
/// assert_eq!(
///     table.feature_names(),
///     ["island=Biscoe", "island=Dream", "island=(missing)", "mass", "mass=(missing)"]
/// );
/// let mut out = [0.0; 5];
/// let unseen = table.encode(&[Cell::Text("Dream"), Cell::Text("NA")], &mut out).unwrap();
/// assert_eq!((out, unseen), ([0.0, 1.0, 0.0, 4200.0, 1.0], 0));
/// // A category training never saw encodes as zeros, and is counted.
/// let unseen = table.encode(&[Cell::Text("Torgersen"), Cell::Number(3900.0)], &mut out).unwrap();
/// assert_eq!((out, unseen), ([0.0, 0.0, 0.0, 3900.0, 0.0], 1));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableEncoding {
    /// The raw columns read, in the order their features come.
    pub columns: Vec<ColumnEncoding>,
    /// Cell texts that mean "missing", compared ignoring ASCII case.
    pub missing_values: Vec<String>,
}

/// How one raw column becomes features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnEncoding {
    /// The column's name in the table's header.
    pub name: String,
    /// Number or category, and the categories kept.
    pub kind: ColumnKind,
    /// What a missing cell becomes.
    pub missing: Missing,
    /// Whether one more 0/1 feature says the cell was missing (scikit-learn's
    /// `add_indicator`).
    #[serde(default)]
    pub indicator: bool,
}

/// What a column holds and how it is encoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    /// A number, one feature.
    Numeric,
    /// One 0/1 feature per kept category (scikit-learn's `OneHotEncoder`), then one for the
    /// rare categories folded together when there are any. A category seen in neither list
    /// encodes as all zeros (`handle_unknown="ignore"`).
    OneHot {
        /// The categories with a feature of their own, sorted.
        categories: Vec<String>,
        /// The rare categories sharing the `(other)` feature, sorted.
        #[serde(default)]
        other: Vec<String>,
    },
    /// One feature: the category's index among `categories` (scikit-learn's
    /// `OrdinalEncoder`); an unseen category is -1.
    Ordinal {
        /// The categories, sorted; a cell's feature is its index here.
        categories: Vec<String>,
    },
}

/// What a missing cell of a column becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// This number (a numeric column's training mean or median, or a constant).
    Value(f32),
    /// This category (a categorical column's most frequent category, or a constant).
    Category(String),
    /// A category of its own: the `(missing)` one-hot feature, or the index after the last
    /// category (ordinal).
    OwnCategory,
    /// The row is left out of training and evaluation; predicting it is an error.
    DropRow,
    /// An error naming the cell.
    Error,
}

/// One cell of a raw row: text (from CSV, or a string column), a number (from a numeric
/// column of a typed table such as Parquet; NaN is missing), or a null.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// Text, trimmed; one of the missing values counts as missing.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A null cell.
    Missing,
}

/// Why a row cannot be encoded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RowError {
    /// The row has a different number of cells than the encoding has columns.
    #[error("the row has {got} cells, the model reads {want} columns")]
    Cells {
        /// Cells in the row.
        got: usize,
        /// Columns the encoding reads.
        want: usize,
    },
    /// A missing cell in a column with no value to put in its place.
    #[error("column `{column}` is missing, and the model has no value to put in its place")]
    Missing {
        /// The column's name.
        column: String,
        /// Whether the column's rule is to drop such rows (rather than to refuse them).
        drop_row: bool,
    },
    /// A numeric column's cell that is not a finite number.
    #[error("column `{column}` holds `{text}`, which is not a finite number")]
    NotANumber {
        /// The column's name.
        column: String,
        /// The cell's text.
        text: String,
    },
}

impl TableEncoding {
    /// Every column numeric, as it is: a missing cell is an error (a model saved before
    /// tables had encodings).
    pub fn numeric(names: &[String]) -> Self {
        Self {
            columns: names
                .iter()
                .map(|name| ColumnEncoding {
                    name: name.clone(),
                    kind: ColumnKind::Numeric,
                    missing: Missing::Error,
                    indicator: false,
                })
                .collect(),
            missing_values: DEFAULT_MISSING_VALUES
                .iter()
                .map(|v| v.to_string())
                .collect(),
        }
    }

    /// The raw column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The number of features a row encodes to.
    pub fn width(&self) -> usize {
        self.columns.iter().map(ColumnEncoding::width).sum()
    }

    /// The features' names: a numeric column's own name, `column=category` per one-hot
    /// category, `column=(other)`, and `column=(missing)` for a missing category or indicator.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width());
        for column in &self.columns {
            let name = &column.name;
            match &column.kind {
                ColumnKind::Numeric | ColumnKind::Ordinal { .. } => names.push(name.clone()),
                ColumnKind::OneHot { categories, other } => {
                    names.extend(categories.iter().map(|c| alloc::format!("{name}={c}")));
                    if !other.is_empty() {
                        names.push(alloc::format!("{name}={OTHER_FEATURE}"));
                    }
                    if column.missing == Missing::OwnCategory {
                        names.push(alloc::format!("{name}={MISSING_FEATURE}"));
                    }
                }
            }
            if column.indicator {
                names.push(alloc::format!("{name}={MISSING_FEATURE}"));
            }
        }
        names
    }

    /// Whether `cell` is missing: a null, a NaN (a typed table's missing number) or one of
    /// the missing values.
    pub fn cell_is_missing(&self, cell: Cell<'_>) -> bool {
        match cell {
            Cell::Missing => true,
            Cell::Text(text) => self.is_missing(text),
            Cell::Number(value) => value.is_nan(),
        }
    }

    /// Whether `text` is one of the missing values.
    pub fn is_missing(&self, text: &str) -> bool {
        self.missing_values
            .iter()
            .any(|m| m.eq_ignore_ascii_case(text))
    }

    /// Encodes one row (`cells[i]` of `columns[i]`) into `out`, [`TableEncoding::width`]
    /// values, and returns how many of its categories training never saw.
    pub fn encode(&self, cells: &[Cell<'_>], out: &mut [f32]) -> Result<usize, RowError> {
        if cells.len() != self.columns.len() {
            return Err(RowError::Cells {
                got: cells.len(),
                want: self.columns.len(),
            });
        }
        if out.len() != self.width() {
            return Err(RowError::Cells {
                got: out.len(),
                want: self.width(),
            });
        }
        let mut unseen = 0;
        let mut at = 0;
        for (column, &cell) in self.columns.iter().zip(cells) {
            let width = column.width();
            let slot = &mut out[at..at + width];
            at += width;
            slot.fill(0.0);
            let missing = self.cell_is_missing(cell);
            if column.indicator {
                slot[width - 1] = if missing { 1.0 } else { 0.0 };
            }
            let cell = if missing {
                match &column.missing {
                    Missing::Value(value) => Cell::Number(*value as f64),
                    Missing::Category(category) => Cell::Text(category),
                    Missing::OwnCategory => Cell::Missing,
                    Missing::DropRow | Missing::Error => {
                        return Err(RowError::Missing {
                            column: column.name.clone(),
                            drop_row: column.missing == Missing::DropRow,
                        });
                    }
                }
            } else {
                cell
            };
            if !column.encode(cell, slot)? {
                unseen += 1;
            }
        }
        Ok(unseen)
    }
}

impl ColumnEncoding {
    /// The number of features this column encodes to.
    pub fn width(&self) -> usize {
        let own = match &self.kind {
            ColumnKind::Numeric | ColumnKind::Ordinal { .. } => 1,
            ColumnKind::OneHot { categories, other } => {
                categories.len()
                    + usize::from(!other.is_empty())
                    + usize::from(self.missing == Missing::OwnCategory)
            }
        };
        own + usize::from(self.indicator)
    }

    /// Writes the features of a present cell (`Cell::Missing` here is the missing category)
    /// into `slot`, zeroed. False when the cell is a category training never saw.
    fn encode(&self, cell: Cell<'_>, slot: &mut [f32]) -> Result<bool, RowError> {
        match &self.kind {
            ColumnKind::Numeric => {
                slot[0] = match cell {
                    Cell::Number(value) if value.is_finite() => value as f32,
                    Cell::Text(text) => text
                        .parse::<f32>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| RowError::NotANumber {
                            column: self.name.clone(),
                            text: text.to_string(),
                        })?,
                    Cell::Number(value) => {
                        return Err(RowError::NotANumber {
                            column: self.name.clone(),
                            text: alloc::format!("{value}"),
                        });
                    }
                    // Only a missing category becomes `Cell::Missing`, and a numeric column
                    // has none.
                    Cell::Missing => {
                        return Err(RowError::Missing {
                            column: self.name.clone(),
                            drop_row: false,
                        });
                    }
                };
                Ok(true)
            }
            ColumnKind::OneHot { categories, other } => {
                let index = match cell {
                    Cell::Missing => Some(categories.len() + usize::from(!other.is_empty())),
                    _ => with_text(cell, |text| {
                        find(categories, text)
                            .or_else(|| find(other, text).map(|_| categories.len()))
                    }),
                };
                match index.and_then(|i| slot.get_mut(i)) {
                    Some(value) => {
                        *value = 1.0;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            ColumnKind::Ordinal { categories } => {
                let index = match cell {
                    Cell::Missing => Some(categories.len()),
                    _ => with_text(cell, |text| find(categories, text)),
                };
                slot[0] = index.map_or(-1.0, |i| i as f32);
                Ok(index.is_some())
            }
        }
    }
}

/// Calls `f` with a category cell's text: its own, or a number's shortest decimal form (a
/// typed table's 2139 is the category `2139` a CSV file spells).
fn with_text<T>(cell: Cell<'_>, f: impl FnOnce(&str) -> T) -> T {
    match cell {
        Cell::Text(text) => f(text),
        Cell::Number(value) => f(&alloc::format!("{value}")),
        Cell::Missing => f(""),
    }
}

/// The index of `text` in sorted `categories`.
fn find(categories: &[String], text: &str) -> Option<usize> {
    categories.binary_search_by(|c| c.as_str().cmp(text)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn column(name: &str, kind: ColumnKind, missing: Missing) -> ColumnEncoding {
        ColumnEncoding {
            name: name.into(),
            kind,
            missing,
            indicator: false,
        }
    }

    fn encode(table: &TableEncoding, cells: &[Cell<'_>]) -> Result<(Vec<f32>, usize), RowError> {
        let mut out = vec![f32::NAN; table.width()];
        let unseen = table.encode(cells, &mut out)?;
        Ok((out, unseen))
    }

    #[test]
    fn one_hot_folds_rare_categories_and_ignores_unseen_ones() {
        let table = TableEncoding {
            columns: vec![column(
                "zip",
                ColumnKind::OneHot {
                    categories: strings(&["02139", "10001"]),
                    other: strings(&["60601", "94105"]),
                },
                Missing::Error,
            )],
            missing_values: strings(&DEFAULT_MISSING_VALUES),
        };
        assert_eq!(
            table.feature_names(),
            ["zip=02139", "zip=10001", "zip=(other)"]
        );
        let row = |text| encode(&table, &[Cell::Text(text)]);
        assert_eq!(row("02139").unwrap(), (vec![1.0, 0.0, 0.0], 0));
        assert_eq!(row("94105").unwrap(), (vec![0.0, 0.0, 1.0], 0));
        assert_eq!(row("73301").unwrap(), (vec![0.0, 0.0, 0.0], 1));
        // A typed table's number is the category its decimal form names.
        assert_eq!(
            encode(&table, &[Cell::Number(10001.0)]).unwrap(),
            (vec![0.0, 1.0, 0.0], 0)
        );
        assert_eq!(
            row("na").unwrap_err(),
            RowError::Missing {
                column: "zip".into(),
                drop_row: false
            }
        );
    }

    #[test]
    fn missing_cells_take_the_fitted_value_category_or_their_own() {
        let table = TableEncoding {
            columns: vec![
                ColumnEncoding {
                    indicator: true,
                    ..column("age", ColumnKind::Numeric, Missing::Value(40.5))
                },
                column(
                    "sex",
                    ColumnKind::OneHot {
                        categories: strings(&["f", "m"]),
                        other: vec![],
                    },
                    Missing::Category("m".into()),
                ),
                column(
                    "size",
                    ColumnKind::Ordinal {
                        categories: strings(&["L", "M", "S"]),
                    },
                    Missing::OwnCategory,
                ),
            ],
            missing_values: strings(&["", "NA", "?"]),
        };
        assert_eq!(
            table.feature_names(),
            ["age", "age=(missing)", "sex=f", "sex=m", "size"]
        );
        assert_eq!(
            encode(
                &table,
                &[Cell::Text("31"), Cell::Text("f"), Cell::Text("S")]
            )
            .unwrap(),
            (vec![31.0, 0.0, 1.0, 0.0, 2.0], 0)
        );
        assert_eq!(
            encode(&table, &[Cell::Missing, Cell::Text("?"), Cell::Text("na")]).unwrap(),
            (vec![40.5, 1.0, 0.0, 1.0, 3.0], 0)
        );
        assert_eq!(
            encode(
                &table,
                &[Cell::Text("1"), Cell::Text("x"), Cell::Text("XL")]
            )
            .unwrap(),
            (vec![1.0, 0.0, 0.0, 0.0, -1.0], 2)
        );
        assert_eq!(
            encode(
                &table,
                &[Cell::Text("old"), Cell::Text("f"), Cell::Text("S")]
            )
            .unwrap_err(),
            RowError::NotANumber {
                column: "age".into(),
                text: "old".into()
            }
        );
        assert_eq!(
            encode(&table, &[Cell::Text("1")]).unwrap_err(),
            RowError::Cells { got: 1, want: 3 }
        );
    }

    #[test]
    fn drop_row_and_error_columns_refuse_a_missing_cell() {
        let table = TableEncoding {
            columns: vec![column("x", ColumnKind::Numeric, Missing::DropRow)],
            missing_values: strings(&[""]),
        };
        assert_eq!(
            encode(&table, &[Cell::Text("")]).unwrap_err(),
            RowError::Missing {
                column: "x".into(),
                drop_row: true
            }
        );
        // Only the configured texts are missing: `NA` is then not a number.
        assert!(matches!(
            encode(&table, &[Cell::Text("NA")]).unwrap_err(),
            RowError::NotANumber { .. }
        ));
    }
}
