//! Predictions as named, typed columns, written a chunk at a time as CSV, Parquet or Arrow IPC.
//!
//! `kiln predict` writes CSV to standard output, and to `--out` in the format its extension
//! names (as [`Format::of`] reads inputs), so a Parquet table in gives a Parquet table out.
//!
//! ```
//! use kiln_model_zoo::{HostPrediction, Preprocessing};
//! use kiln_trainer::predictions::{PredictionColumns, PredictionWriter, Output};
//!
//! let prep = Preprocessing::identity(vec!["x".into()], Some(vec!["no".into(), "yes".into()]));
//! let prediction = HostPrediction::Probabilities { proba: vec![0.9, 0.1, 0.25, 0.75], n_classes: 2 };
//! let mut csv = Vec::new();
//! let mut writer = PredictionWriter::new(Output::Csv(&mut csv));
//! writer.write(&PredictionColumns::of(&prediction, &prep)).unwrap();
//! writer.finish().unwrap();
//! assert_eq!(
//!     String::from_utf8(csv).unwrap(),
//!     "prediction,proba_no,proba_yes\nno,0.9,0.1\nyes,0.25,0.75\n"
//! );
//! ```

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};
use kiln_model_zoo::{HostPrediction, Preprocessing};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::source::Format;

/// One column of predictions.
#[derive(Clone, Debug, PartialEq)]
pub enum PredictionColumn {
    /// Class labels.
    Labels(Vec<String>),
    /// Values, probabilities, scores or standard deviations.
    Numbers(Vec<f32>),
    /// Cluster (or mixture component) numbers.
    Clusters(Vec<usize>),
}

impl PredictionColumn {
    fn len(&self) -> usize {
        match self {
            PredictionColumn::Labels(v) => v.len(),
            PredictionColumn::Numbers(v) => v.len(),
            PredictionColumn::Clusters(v) => v.len(),
        }
    }

    /// Row `row` as CSV text.
    fn text(&self, row: usize) -> String {
        match self {
            PredictionColumn::Labels(v) => v[row].clone(),
            PredictionColumn::Numbers(v) => number(v[row]),
            PredictionColumn::Clusters(v) => v[row].to_string(),
        }
    }

    fn data_type(&self) -> DataType {
        match self {
            PredictionColumn::Labels(_) => DataType::Utf8,
            PredictionColumn::Numbers(_) => DataType::Float32,
            PredictionColumn::Clusters(_) => DataType::Int64,
        }
    }

    fn array(&self) -> ArrayRef {
        match self {
            PredictionColumn::Labels(v) => Arc::new(StringArray::from_iter_values(v)),
            PredictionColumn::Numbers(v) => Arc::new(Float32Array::from(v.clone())),
            PredictionColumn::Clusters(v) => {
                Arc::new(Int64Array::from_iter_values(v.iter().map(|&c| c as i64)))
            }
        }
    }
}

/// `v` as CSV text: shortest round-trip digits, in exponent form when tiny (a probability of
/// 1e-35 is not 37 zeros).
fn number(v: f32) -> String {
    if v != 0.0 && v.abs() < 1e-4 {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// One chunk's predictions as named columns: the label (or value, or cluster) first, then one
/// column per class, component or score.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionColumns {
    /// The columns, named as in the output's header.
    pub columns: Vec<(String, PredictionColumn)>,
}

impl PredictionColumns {
    /// The columns of `prediction`, with the class names of `prep`.
    pub fn of(prediction: &HostPrediction, prep: &Preprocessing) -> Self {
        let names = prep.class_names.clone().unwrap_or_default();
        let class_name = |label: usize| names.get(label).cloned().unwrap_or(label.to_string());
        let numbers = |values: &[f32]| PredictionColumn::Numbers(values.to_vec());
        let columns = match prediction {
            HostPrediction::Values(values) => vec![("prediction".to_owned(), numbers(values))],
            HostPrediction::Gaussian { mean, std } => vec![
                ("prediction".to_owned(), numbers(mean)),
                ("std".to_owned(), numbers(std)),
            ],
            HostPrediction::Clusters { .. } => vec![(
                "cluster".to_owned(),
                PredictionColumn::Clusters(prediction.clusters().unwrap_or_default()),
            )],
            HostPrediction::Memberships { proba, k } => {
                let label = PredictionColumn::Clusters(prediction.clusters().unwrap_or_default());
                let headers = (0..*k).map(|c| format!("proba_{c}")).collect();
                with_values(("cluster", label), headers, proba, *k)
            }
            HostPrediction::Scores { scores, width } => {
                // One `decision` column for a binary SVM, one per class otherwise.
                let headers = match *width {
                    1 => vec!["decision".to_owned()],
                    _ => names.iter().map(|n| format!("decision_{n}")).collect(),
                };
                let labels = prediction.classes().unwrap_or_default();
                let label = PredictionColumn::Labels(labels.into_iter().map(class_name).collect());
                with_values(("prediction", label), headers, scores, *width)
            }
            HostPrediction::Probabilities { proba, n_classes } => {
                let headers = names.iter().map(|n| format!("proba_{n}")).collect();
                let labels = prediction.classes().unwrap_or_default();
                let label = PredictionColumn::Labels(labels.into_iter().map(class_name).collect());
                with_values(("prediction", label), headers, proba, *n_classes)
            }
        };
        Self { columns }
    }

    /// The rows in this chunk.
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    fn schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(name, column)| Field::new(name, column.data_type(), false))
                .collect::<Vec<_>>(),
        ))
    }

    fn batch(&self, schema: Arc<Schema>) -> std::io::Result<RecordBatch> {
        let arrays = self.columns.iter().map(|(_, c)| c.array()).collect();
        RecordBatch::try_new(schema, arrays).map_err(std::io::Error::other)
    }
}

/// A label column, then the `width` columns of the row-major `values`.
fn with_values(
    label: (&str, PredictionColumn),
    headers: Vec<String>,
    values: &[f32],
    width: usize,
) -> Vec<(String, PredictionColumn)> {
    let mut columns = vec![(label.0.to_owned(), label.1)];
    for (j, header) in headers.into_iter().enumerate().take(width) {
        let column = values.iter().skip(j).step_by(width).copied().collect();
        columns.push((header, PredictionColumn::Numbers(column)));
    }
    columns
}

/// Where predictions go, and as what.
pub enum Output<'a> {
    /// CSV text, with a header row.
    Csv(&'a mut dyn Write),
    /// A Parquet file (Snappy-compressed).
    Parquet(&'a mut (dyn Write + Send)),
    /// An Arrow IPC file (Feather v2).
    ArrowIpc(&'a mut dyn Write),
}

impl std::fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Output::Csv(_) => "Output::Csv",
            Output::Parquet(_) => "Output::Parquet",
            Output::ArrowIpc(_) => "Output::ArrowIpc",
        })
    }
}

impl<'a> Output<'a> {
    /// A file written in `format`.
    pub fn file(format: Format, out: &'a mut (dyn Write + Send)) -> Self {
        match format {
            Format::Csv => Output::Csv(out),
            Format::Parquet => Output::Parquet(out),
            Format::ArrowIpc => Output::ArrowIpc(out),
        }
    }
}

/// Writes chunks of predictions to an [`Output`]; the columnar formats take their schema from the
/// first chunk. Call [`finish`](Self::finish): a Parquet or Arrow file is whole only then.
pub struct PredictionWriter<'a> {
    state: State<'a>,
}

impl std::fmt::Debug for PredictionWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.state {
            State::Waiting(_) => "PredictionWriter (no chunk yet)",
            State::Failed => "PredictionWriter (failed to start)",
            State::Csv(_) => "PredictionWriter (CSV)",
            State::Parquet(..) => "PredictionWriter (Parquet)",
            State::ArrowIpc(..) => "PredictionWriter (Arrow IPC)",
        })
    }
}

enum State<'a> {
    /// No chunk yet.
    Waiting(Output<'a>),
    /// The first chunk's start failed.
    Failed,
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
    Parquet(Box<ArrowWriter<&'a mut (dyn Write + Send)>>, Arc<Schema>),
    ArrowIpc(Box<FileWriter<&'a mut dyn Write>>, Arc<Schema>),
}

impl<'a> PredictionWriter<'a> {
    /// A writer to `out`.
    pub fn new(out: Output<'a>) -> Self {
        Self {
            state: State::Waiting(out),
        }
    }

    /// Writes one chunk (after the header, for the first).
    pub fn write(&mut self, chunk: &PredictionColumns) -> std::io::Result<()> {
        if let State::Waiting(_) = self.state
            && let State::Waiting(out) = std::mem::replace(&mut self.state, State::Failed)
        {
            self.state = Self::start(out, chunk)?;
        }
        match &mut self.state {
            State::Waiting(_) | State::Failed => Err(std::io::Error::other(
                "the output could not be started, so nothing more is written to it",
            )),
            State::Csv(csv) => {
                for row in 0..chunk.n_rows() {
                    csv.write_record(chunk.columns.iter().map(|(_, c)| c.text(row)))
                        .map_err(csv_io)?;
                }
                Ok(())
            }
            State::Parquet(writer, schema) => writer
                .write(&chunk.batch(schema.clone())?)
                .map_err(std::io::Error::other),
            State::ArrowIpc(writer, schema) => writer
                .write(&chunk.batch(schema.clone())?)
                .map_err(std::io::Error::other),
        }
    }

    /// The writer for `out`, its header (CSV) or schema (columnar) from the first chunk.
    fn start(out: Output<'a>, first: &PredictionColumns) -> std::io::Result<State<'a>> {
        let schema = first.schema();
        Ok(match out {
            Output::Csv(out) => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(first.columns.iter().map(|(name, _)| name))
                    .map_err(csv_io)?;
                State::Csv(Box::new(csv))
            }
            Output::Parquet(out) => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                let writer = ArrowWriter::try_new(out, schema.clone(), Some(properties))
                    .map_err(std::io::Error::other)?;
                State::Parquet(Box::new(writer), schema)
            }
            Output::ArrowIpc(out) => {
                let writer = FileWriter::try_new(out, &schema).map_err(std::io::Error::other)?;
                State::ArrowIpc(Box::new(writer), schema)
            }
        })
    }

    /// Ends the output: flushes CSV, writes a columnar file's footer.
    pub fn finish(self) -> std::io::Result<()> {
        match self.state {
            State::Waiting(_) | State::Failed => Ok(()),
            State::Csv(mut csv) => csv.flush(),
            State::Parquet(writer, _) => writer.close().map(|_| ()).map_err(std::io::Error::other),
            State::ArrowIpc(mut writer, _) => writer.finish().map_err(std::io::Error::other),
        }
    }
}

/// A CSV error as the I/O error under it (a closed pipe stays a closed pipe).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Int64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::io::{Seek, SeekFrom};

    fn clusters_and_memberships() -> (HostPrediction, Preprocessing) {
        let prediction = HostPrediction::Memberships {
            proba: vec![0.2, 0.8, 0.6, 0.4, 1e-30, 1.0],
            k: 2,
        };
        (prediction, Preprocessing::identity(vec!["x".into()], None))
    }

    #[test]
    fn memberships_are_a_cluster_column_then_one_probability_per_component() {
        let (prediction, prep) = clusters_and_memberships();
        let columns = PredictionColumns::of(&prediction, &prep);
        assert_eq!(
            columns.columns,
            vec![
                ("cluster".into(), PredictionColumn::Clusters(vec![1, 0, 1])),
                (
                    "proba_0".into(),
                    PredictionColumn::Numbers(vec![0.2, 0.6, 1e-30])
                ),
                (
                    "proba_1".into(),
                    PredictionColumn::Numbers(vec![0.8, 0.4, 1.0])
                ),
            ]
        );
        let mut csv = Vec::new();
        let mut writer = PredictionWriter::new(Output::Csv(&mut csv));
        writer.write(&columns).unwrap();
        writer.write(&columns).unwrap();
        writer.finish().unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text.lines().count(),
            7,
            "one header, then every row: {text}"
        );
        assert_eq!(text.lines().nth(3), Some("1,1e-30,1"));
    }

    #[test]
    fn parquet_and_arrow_files_hold_the_csv_columns_typed() {
        let (prediction, prep) = clusters_and_memberships();
        let columns = PredictionColumns::of(&prediction, &prep);
        for format in [Format::Parquet, Format::ArrowIpc] {
            let mut file = tempfile::tempfile().unwrap();
            let mut writer = PredictionWriter::new(Output::file(format, &mut file));
            writer.write(&columns).unwrap();
            writer.write(&columns).unwrap();
            writer.finish().unwrap();
            file.seek(SeekFrom::Start(0)).unwrap();
            let batches: Vec<RecordBatch> = match format {
                Format::Parquet => ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap(),
                _ => arrow_ipc::reader::FileReader::try_new(file, None)
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap(),
            };
            let names: Vec<_> = batches[0]
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(names, ["cluster", "proba_0", "proba_1"], "{format:?}");
            let mut clusters: Vec<i64> = Vec::new();
            let mut proba: Vec<f32> = Vec::new();
            for batch in &batches {
                clusters.extend(batch.column(0).as_primitive::<Int64Type>().values().iter());
                proba.extend(
                    batch
                        .column(1)
                        .as_primitive::<Float32Type>()
                        .values()
                        .iter(),
                );
            }
            assert_eq!(clusters, [1, 0, 1, 1, 0, 1], "{format:?}");
            // The f32s themselves, not their CSV text.
            assert_eq!(proba, [0.2, 0.6, 1e-30, 0.2, 0.6, 1e-30], "{format:?}");
        }
    }
}
