//! Data generators shared by kiln's criterion benches: seeded synthetic data sets written as
//! CSV, so a bench measures the whole `kiln train` path (CSV parsing included).

use kiln_model_zoo::rng::Rng;
pub use kiln_model_zoo::synthetic::{write_blobs_csv, write_synthetic_csv};

/// A classification set generated like scikit-learn's `make_classification` (hypercube
/// clusters, no redundant or repeated features, 1% of labels flipped): each class owns
/// `clusters_per_class` Gaussian clusters in the first `informative` features, centred on
/// distinct hypercube vertices at ±`class_sep` and sheared by a random matrix; the other
/// features are standard-normal noise. Returns `rows × features` row-major and the labels.
pub fn make_classification(
    rows: usize,
    features: usize,
    informative: usize,
    classes: usize,
    clusters_per_class: usize,
    class_sep: f64,
    seed: u64,
) -> (Vec<f32>, Vec<usize>) {
    assert!(informative <= features && informative < 64);
    let mut rng = Rng::new(seed);
    let clusters = classes * clusters_per_class;
    // Distinct vertices of the informative hypercube.
    let mut vertices: Vec<u64> = Vec::with_capacity(clusters);
    while vertices.len() < clusters {
        let v = rng.next_u64() & ((1u64 << informative) - 1);
        if !vertices.contains(&v) {
            vertices.push(v);
        }
    }
    let shears: Vec<Vec<f64>> = (0..clusters)
        .map(|_| {
            (0..informative * informative)
                .map(|_| 2.0 * rng.uniform() - 1.0)
                .collect()
        })
        .collect();
    let mut x = vec![0f32; rows * features];
    let mut y = vec![0usize; rows];
    let mut z = vec![0f64; informative];
    for (i, (row, label)) in x.chunks_exact_mut(features).zip(&mut y).enumerate() {
        // Rows go to clusters in turn, as scikit-learn splits them evenly.
        let cluster = i % clusters;
        *label = cluster % classes;
        for v in z.iter_mut() {
            *v = rng.normal();
        }
        let shear = &shears[cluster];
        for (j, out) in row[..informative].iter_mut().enumerate() {
            let sheared: f64 = (0..informative)
                .map(|k| z[k] * shear[k * informative + j])
                .sum();
            let corner = if vertices[cluster] >> j & 1 == 1 {
                1.0
            } else {
                -1.0
            };
            *out = (sheared + corner * class_sep) as f32;
        }
        for out in row[informative..].iter_mut() {
            *out = rng.normal() as f32;
        }
        if rng.uniform() < 0.01 {
            *label = (rng.next_u64() % classes as u64) as usize;
        }
    }
    (x, y)
}

/// Scales each column of `train` and `test` (row-major, `features` wide) by the mean and
/// standard deviation of `train`'s column.
pub fn standardize(train: &mut [f32], test: &mut [f32], features: usize) {
    let n = (train.len() / features) as f64;
    for j in 0..features {
        let column = || train.chunks_exact(features).map(|r| f64::from(r[j]));
        let mean = column().sum::<f64>() / n;
        let sd = (column().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(1e-12);
        for row in train
            .chunks_exact_mut(features)
            .chain(test.chunks_exact_mut(features))
        {
            row[j] = ((f64::from(row[j]) - mean) / sd) as f32;
        }
    }
}

/// Writes `rows × features` standard-normal features and a count target `y` drawn from a
/// Poisson distribution with mean `exp(0.5 + 0.3·x·w)`, `w` a random unit vector (a log-link
/// GLM's data; means mostly between 0.7 and 3).
pub fn write_poisson_csv(
    path: &std::path::Path,
    rows: usize,
    features: usize,
    seed: u64,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..features).map(|_| rng.normal()).collect();
    let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let header: Vec<String> = (0..features).map(|j| format!("x{j}")).collect();
    writeln!(out, "{},y", header.join(","))?;
    for _ in 0..rows {
        let mut score = 0.0;
        for wj in &w {
            let v = rng.normal();
            score += v * wj / norm;
            write!(out, "{v:.6},")?;
        }
        // Knuth's method: count uniforms until their product drops below e^−λ.
        let limit = (-(0.5 + 0.3 * score).exp()).exp();
        let (mut count, mut product) = (0u32, rng.uniform());
        while product > limit {
            count += 1;
            product *= rng.uniform();
        }
        writeln!(out, "{count}")?;
    }
    out.flush()
}

/// The rows [`write_mixed_table`] writes at a time (a Parquet row group, an Arrow batch).
const MIXED_CHUNK_ROWS: usize = 65_536;

/// A raw table of `rows` rows, written as CSV, Parquet (Snappy) and Arrow IPC beside each other
/// with the same cells: six numeric columns (`x0` missing in 1% of rows: an empty CSV cell, a
/// null in the columnar files), a text column `colour` of 5 categories and `city` of 40, and a
/// 3-class `label`. Returns the three paths.
pub fn write_mixed_table(
    dir: &std::path::Path,
    rows: usize,
    seed: u64,
) -> std::io::Result<[std::path::PathBuf; 3]> {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::io::Write;
    use std::sync::Arc;

    const NUMBERS: usize = 6;
    const COLOURS: [&str; 5] = ["red", "green", "blue", "amber", "violet"];
    let paths = ["mixed.csv", "mixed.parquet", "mixed.arrow"].map(|name| dir.join(name));
    let mut fields: Vec<Field> = (0..NUMBERS)
        .map(|j| Field::new(format!("x{j}"), DataType::Float64, j == 0))
        .collect();
    for name in ["colour", "city", "label"] {
        fields.push(Field::new(name, DataType::Utf8, false));
    }
    let schema = Arc::new(Schema::new(fields));
    fn other(e: impl std::error::Error + Send + Sync + 'static) -> std::io::Error {
        std::io::Error::other(e)
    }
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&paths[0])?);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    writeln!(csv, "{}", names.join(","))?;
    let mut parquet = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&paths[1])?,
        schema.clone(),
        Some(
            parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build(),
        ),
    )
    .map_err(other)?;
    let mut arrow =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&paths[2])?, &schema)
            .map_err(other)?;
    let mut rng = Rng::new(seed);
    let mut start = 0;
    while start < rows {
        let n = MIXED_CHUNK_ROWS.min(rows - start);
        let mut numbers: Vec<Vec<Option<f64>>> =
            (0..NUMBERS).map(|_| Vec::with_capacity(n)).collect();
        let (mut colours, mut cities, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            // From the high bits: the generator's low bits cycle quickly.
            let pick = |rng: &mut Rng, n: usize| (rng.uniform() * n as f64) as usize;
            let label = pick(&mut rng, 3);
            for (j, column) in numbers.iter_mut().enumerate() {
                let value = rng.normal() + if j < 3 { label as f64 } else { 0.0 };
                // Rounded as a person's table would be, so the CSV holds the exact value.
                let value = (value * 1e4).round() / 1e4;
                column.push((j > 0 || rng.uniform() >= 0.01).then_some(value));
            }
            colours.push(COLOURS[pick(&mut rng, 5)]);
            cities.push(format!("city{}", pick(&mut rng, 40)));
            labels.push(format!("class{label}"));
        }
        for i in 0..n {
            for column in &numbers {
                if let Some(v) = column[i] {
                    write!(csv, "{v}")?;
                }
                csv.write_all(b",")?;
            }
            writeln!(csv, "{},{},{}", colours[i], cities[i], labels[i])?;
        }
        let mut arrays: Vec<ArrayRef> = numbers
            .into_iter()
            .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
            .collect();
        arrays.push(Arc::new(StringArray::from(colours)));
        arrays.push(Arc::new(StringArray::from(cities)));
        arrays.push(Arc::new(StringArray::from(labels)));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(other)?;
        parquet.write(&batch).map_err(other)?;
        arrow.write(&batch).map_err(other)?;
        start += n;
    }
    csv.flush()?;
    parquet.close().map_err(other)?;
    arrow.finish().map_err(other)?;
    Ok(paths)
}
