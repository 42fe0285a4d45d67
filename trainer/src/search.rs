//! Hyper-parameter search (`kiln search`): the `[search]` table of a config names config keys
//! and the values to try, a grid of lists or `trials` draws from distributions; each trial is
//! the config with those values set, scored by k-fold cross-validation; the best one is refitted
//! on every training row and written as a config `kiln train` takes.
//!
//! ```toml
//! [search]
//! trials = 20                               # absent with only lists: every combination
//! folds = 5                                 # cross-validation folds scoring each trial
//! metric = "accuracy"                       # default: accuracy, r2, or the first metric
//! "model.l2" = { log_uniform = [0.01, 100] }
//! "model.solver" = ["sgd", "lbfgs"]
//! "train.optimizer.learning_rate" = { uniform = [0.01, 0.1] }
//! ```
//!
//! ```
//! use kiln_trainer::search::{Dimension, SearchConfig, trials};
//!
//! let search: SearchConfig = toml::from_str(
//!     r#"
//!     "model.l2" = [0.1, 1.0, 10.0]
//!     "model.fit_intercept" = [true, false]
//!     "#,
//! )
//! .unwrap();
//! let grid = trials(&search, 42).unwrap();
//! assert_eq!(grid.len(), 6);
//! assert_eq!(grid[0].overrides(), ["model.fit_intercept=true", "model.l2=0.1"]);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::Registry;
use crate::commands::TrainOptions;
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::records::Metrics;
use crate::run::{self, Resumable, RunWriter};

/// `[search]`: what to try, how many trials, how to score them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Trials drawn at random; absent, every combination of the lists is tried (a grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<usize>,
    /// Cross-validation folds scoring each trial (default 5).
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// The metric the best trial has the best mean of (default `accuracy`, else `r2`, else
    /// the first metric the model reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Config keys (`model.l2`, `train.optimizer.learning_rate`) and what to try for each.
    #[serde(flatten)]
    pub space: BTreeMap<String, Dimension>,
}

fn default_folds() -> usize {
    5
}

/// The values to try for one config key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Dimension {
    /// These values (numbers, strings, booleans, arrays).
    Values(Vec<toml::Value>),
    /// A number uniform in `[low, high]`.
    Uniform {
        /// `[low, high]`.
        uniform: [f64; 2],
    },
    /// A number whose log is uniform in `[ln low, ln high]` (both > 0): for scales such as a
    /// penalty or a learning rate.
    LogUniform {
        /// `[low, high]`.
        log_uniform: [f64; 2],
    },
    /// An integer uniform in `low..=high`.
    IntUniform {
        /// `[low, high]`.
        int_uniform: [i64; 2],
    },
}

impl<'de> Deserialize<'de> for Dimension {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        const EXPECTED: &str = "a list of values, or `{ uniform = [low, high] }`, \
                                `{ log_uniform = [low, high] }` or `{ int_uniform = [low, high] }`";
        let value = toml::Value::deserialize(deserializer)?;
        let pair = |range: &toml::Value| -> Option<[f64; 2]> {
            let ends = range.as_array()?;
            let number =
                |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            match ends.as_slice() {
                [low, high] => Some([number(low)?, number(high)?]),
                _ => None,
            }
        };
        let dimension = match &value {
            toml::Value::Array(values) => Some(Dimension::Values(values.clone())),
            toml::Value::Table(table) if table.len() == 1 => {
                let (name, range) = table.iter().next().expect("one entry");
                match name.as_str() {
                    "uniform" => pair(range).map(|uniform| Dimension::Uniform { uniform }),
                    "log_uniform" => {
                        pair(range).map(|log_uniform| Dimension::LogUniform { log_uniform })
                    }
                    "int_uniform" => range.as_array().and_then(|ends| match ends.as_slice() {
                        [low, high] => Some(Dimension::IntUniform {
                            int_uniform: [low.as_integer()?, high.as_integer()?],
                        }),
                        _ => None,
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        dimension.ok_or_else(|| D::Error::custom(format!("expected {EXPECTED}, found `{value}`")))
    }
}

/// One trial: a value for each searched key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Each key's value.
    pub values: BTreeMap<String, toml::Value>,
}

impl Trial {
    /// The trial as `--set` overrides, `key=value` with the value in TOML.
    pub fn overrides(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect()
    }
}

/// A finished trial: what it set, and its cross-validated metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialResult {
    /// The trial's number, from 1.
    pub trial: usize,
    /// Each key's value.
    pub values: BTreeMap<String, toml::Value>,
    /// The mean of each metric over the folds.
    pub mean: Metrics,
    /// The standard deviation of each metric over the folds.
    pub std: Metrics,
}

/// What is wrong with a `[search]` table.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// Nothing to search.
    #[error(
        "`[search]` names no config key to search; add one, e.g. `\"model.l2\" = [0.1, 1, 10]`"
    )]
    Empty,
    /// A key that is not `section.key`.
    #[error(
        "`[search]` key `{0}` is not a config key; name it with its table, e.g. `\"model.{0}\"`"
    )]
    NotAConfigKey(String),
    /// An empty list of values.
    #[error("`[search]` key `{0}` has no values to try; give at least one")]
    NoValues(String),
    /// A range whose ends are reversed, not finite, or not positive for a log scale.
    #[error("`[search]` key `{key}` has the range [{low}, {high}]; {rule}")]
    BadRange {
        /// The key.
        key: String,
        /// The low end.
        low: f64,
        /// The high end.
        high: f64,
        /// What a range must be.
        rule: &'static str,
    },
    /// Distributions without a trial count.
    #[error("`[search]` key `{0}` is a distribution, so the search needs `trials = N`")]
    NeedsTrials(String),
    /// `trials = 0` or `folds < 2`.
    #[error("`[search]` {0}")]
    BadSetting(&'static str),
}

/// The trials of `search`, in the order they run: every combination of the lists (keys in
/// order, the last varying fastest), or `trials` seeded draws (without repeats from a grid).
pub fn trials(search: &SearchConfig, seed: u64) -> std::result::Result<Vec<Trial>, SearchError> {
    if search.space.is_empty() {
        return Err(SearchError::Empty);
    }
    if search.folds < 2 {
        return Err(SearchError::BadSetting(
            "`folds` must be at least 2 (each trial is cross-validated)",
        ));
    }
    if search.trials == Some(0) {
        return Err(SearchError::BadSetting("`trials` must be at least 1"));
    }
    for (key, dimension) in &search.space {
        check(key, dimension)?;
    }
    let distribution = search
        .space
        .iter()
        .find(|(_, d)| !matches!(d, Dimension::Values(_)));
    let mut rng = kiln_model_zoo::rng::Rng::new(seed ^ 0x5EA7_C4ED);
    match (distribution, search.trials) {
        (Some((key, _)), None) => Err(SearchError::NeedsTrials(key.clone())),
        (None, trials) => {
            let lists = search
                .space
                .iter()
                .filter_map(|(key, dimension)| match dimension {
                    Dimension::Values(values) => Some((key, values)),
                    _ => None,
                });
            let mut grid = vec![Trial {
                values: BTreeMap::new(),
            }];
            for (key, values) in lists {
                grid = grid
                    .into_iter()
                    .flat_map(|trial| {
                        values.iter().map(move |value| {
                            let mut next = trial.clone();
                            next.values.insert(key.clone(), value.clone());
                            next
                        })
                    })
                    .collect();
            }
            match trials {
                Some(n) if n < grid.len() => {
                    // A seeded sample of the grid, in grid order.
                    let mut order: Vec<usize> = (0..grid.len()).collect();
                    for i in (1..order.len()).rev() {
                        let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
                        order.swap(i, j);
                    }
                    let mut picked = order[..n].to_vec();
                    picked.sort_unstable();
                    Ok(picked.into_iter().map(|i| grid[i].clone()).collect())
                }
                _ => Ok(grid),
            }
        }
        (Some(_), Some(n)) => Ok((0..n)
            .map(|_| Trial {
                values: search
                    .space
                    .iter()
                    .map(|(key, dimension)| (key.clone(), draw(dimension, &mut rng)))
                    .collect(),
            })
            .collect()),
    }
}

fn check(key: &str, dimension: &Dimension) -> std::result::Result<(), SearchError> {
    if !key.contains('.') || key.starts_with('.') || key.ends_with('.') {
        return Err(SearchError::NotAConfigKey(key.to_owned()));
    }
    let range = |low: f64, high: f64, positive: bool| {
        let rule = if !(low.is_finite() && high.is_finite()) {
            Some("both ends must be finite numbers")
        } else if low > high {
            Some("the low end comes first")
        } else if positive && low <= 0.0 {
            Some("a log scale needs both ends > 0")
        } else {
            None
        };
        match rule {
            Some(rule) => Err(SearchError::BadRange {
                key: key.to_owned(),
                low,
                high,
                rule,
            }),
            None => Ok(()),
        }
    };
    match dimension {
        Dimension::Values(values) if values.is_empty() => {
            Err(SearchError::NoValues(key.to_owned()))
        }
        Dimension::Values(_) => Ok(()),
        Dimension::Uniform { uniform: [a, b] } => range(*a, *b, false),
        Dimension::LogUniform {
            log_uniform: [a, b],
        } => range(*a, *b, true),
        Dimension::IntUniform {
            int_uniform: [a, b],
        } => range(*a as f64, *b as f64, false),
    }
}

fn draw(dimension: &Dimension, rng: &mut kiln_model_zoo::rng::Rng) -> toml::Value {
    let u = rng.uniform();
    match dimension {
        Dimension::Values(values) => {
            values[((u * values.len() as f64) as usize).min(values.len() - 1)].clone()
        }
        Dimension::Uniform { uniform: [a, b] } => toml::Value::Float(a + u * (b - a)),
        Dimension::LogUniform {
            log_uniform: [a, b],
        } => toml::Value::Float((a.ln() + u * (b.ln() - a.ln())).exp()),
        Dimension::IntUniform {
            int_uniform: [a, b],
        } => {
            let span = (b - a + 1) as f64;
            toml::Value::Integer(a + ((u * span) as i64).min(b - a))
        }
    }
}

/// Whether a lower value of `metric` is better (losses, errors, inertia).
pub fn lower_is_better(metric: &str) -> bool {
    matches!(
        metric,
        "log_loss" | "mse" | "mae" | "rmse" | "inertia" | "deviance" | "hinge_loss"
    )
}

/// The metric trials are ranked by: `wanted`, or `accuracy`, `r2`, or the first of `reported`.
pub fn ranking_metric(
    wanted: Option<&str>,
    reported: &Metrics,
) -> std::result::Result<String, String> {
    match wanted {
        Some(name) if reported.contains_key(name) => Ok(name.to_owned()),
        Some(name) => Err(format!(
            "`[search] metric = \"{name}\"` is not a metric this model reports; it reports {}",
            reported.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        None => ["accuracy", "r2"]
            .into_iter()
            .find(|m| reported.contains_key(*m))
            .map(str::to_owned)
            .or_else(|| reported.keys().next().cloned())
            .ok_or_else(|| "the model reports no metric to rank trials by".to_owned()),
    }
}

/// The best of `results` by the mean of `metric` (the first of ties).
pub fn best<'a>(results: &'a [TrialResult], metric: &str) -> Option<&'a TrialResult> {
    let better = |a: f64, b: f64| {
        if lower_is_better(metric) {
            a < b
        } else {
            a > b
        }
    };
    let mut best: Option<&TrialResult> = None;
    for result in results {
        let Some(&value) = result.mean.get(metric).filter(|v| v.is_finite()) else {
            continue;
        };
        if best.is_none_or(|b| better(value, b.mean[metric])) {
            best = Some(result);
        }
    }
    best
}

/// What `kiln search` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct SearchOptions {
    /// The config file, with its `[search]` table.
    pub config: PathBuf,
    /// The backend to train on, overriding the config's.
    pub backend: Option<String>,
    /// `KEY=VALUE` overrides of config keys, under every trial's.
    pub set: Vec<String>,
    /// The directory to write (default `runs/<config name>-search`).
    pub out: Option<PathBuf>,
    /// Continue the stopped search in `out` (or the latest of this config under `runs/`).
    pub resume: bool,
}

/// A finished search.
#[derive(Debug)]
pub struct SearchReport {
    /// The metric trials were ranked by.
    pub metric: String,
    /// Every trial, in the order run.
    pub results: Vec<TrialResult>,
    /// The best trial.
    pub best: TrialResult,
    /// The refitted best config's metrics on its validation rows (none without any).
    pub refit_valid: Metrics,
    /// Where it was written: `trials.jsonl`, `search.json`, `best.toml` and the refitted
    /// `best/` run.
    pub dir: PathBuf,
}

/// The file of a search directory with one line per finished trial.
pub const TRIALS_FILE: &str = "trials.jsonl";
/// The file of a search directory naming the best trial.
pub const SEARCH_FILE: &str = "search.json";
/// The config of the best trial, as `kiln train` takes it.
pub const BEST_CONFIG_FILE: &str = "best.toml";
/// The run directory of the best config refitted on every training row.
pub const BEST_RUN_DIR: &str = "best";
/// What a search directory's trials are of: the `[search]` table, the seed and the `--set`s.
pub const SPACE_FILE: &str = "space.json";

/// `kiln search`: runs the trials of the config's `[search]` table (those a stopped search
/// finished are kept), ranks them, refits the best on every training row and writes it all.
pub fn run(registry: &Registry, options: &SearchOptions) -> Result<SearchReport> {
    let mut base = options.set.clone();
    if let Some(backend) = &options.backend {
        base.push(format!("backend={backend}"));
    }
    let loaded = LoadedConfig::load(&options.config, &base)?;
    let Some(search) = loaded.config.search.clone() else {
        return Err(loaded.error(
            &[],
            "the config has no `[search]` table, so there is nothing to search".into(),
            "add one, e.g. `[search]` with `\"model.l2\" = [0.1, 1, 10]`".into(),
        ));
    };
    let trials = trials(&search, loaded.config.seed).map_err(|e| {
        let text = e.to_string();
        let (message, fix) = text
            .split_once("; ")
            .unwrap_or((&text, "see `kiln search --help`"));
        loaded.error(&["search"], message.to_owned(), fix.to_owned())
    })?;
    let name = format!("{}-search", crate::commands::config_name(&options.config));
    let writer = if options.resume {
        let base_dir = options
            .out
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("runs"));
        RunWriter::reopen(&stopped_search(options.out.as_deref(), base_dir, &name)?)?
    } else {
        let target = options
            .out
            .clone()
            .unwrap_or_else(|| run::default_run_dir(Path::new("runs"), &name));
        RunWriter::create(&target)?
    };
    let space = serde_json::json!({
        "search": search,
        "seed": loaded.config.seed,
        "set": base,
    });
    match std::fs::read(writer.path(SPACE_FILE)) {
        Ok(bytes)
            if serde_json::from_slice::<serde_json::Value>(&bytes).ok() != Some(space.clone()) =>
        {
            return Err(Error::Run {
                message: "the `[search]` table, `seed` or `--set` changed since the search \
                          stopped; resuming would mix two searches"
                    .into(),
                path: writer.dir().to_owned(),
                fix: "restore them, or search without --resume".into(),
            });
        }
        Ok(_) => {}
        Err(_) => writer.write_json(SPACE_FILE, &space)?,
    }
    // Each finished trial's line is kept as written: reparsed numbers may differ in the last
    // digit, and a resumed search ends with the bytes of one never stopped.
    let (mut results, mut lines) = finished_trials(&writer.path(TRIALS_FILE), &trials)?;
    if !results.is_empty() {
        eprintln!(
            "resuming: {} of {} trials done in {}",
            results.len(),
            trials.len(),
            writer.dir().display()
        );
    }
    let mut metric = results
        .first()
        .map(|r| ranking_metric(search.metric.as_deref(), &r.mean))
        .transpose()
        .map_err(|e| loaded.error(&["search", "metric"], e, "name one it reports".into()))?;
    let interrupt = crate::commands::interrupt_flag();
    for (index, trial) in trials.iter().enumerate().skip(results.len()) {
        if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::SearchStopped {
                done: results.len(),
                total: trials.len(),
                resume: format!(
                    "continue with `kiln search {} --resume --out {}`",
                    options.config.display(),
                    writer.target().display()
                ),
            });
        }
        let mut overrides = base.clone();
        overrides.extend(trial.overrides());
        let trial_config = LoadedConfig::load(&options.config, &overrides)?;
        let cv = registry.cross_validation(&trial_config, search.folds)?;
        let result = TrialResult {
            trial: index + 1,
            values: trial.values.clone(),
            mean: cv.mean,
            std: cv.std,
        };
        let metric = match &metric {
            Some(metric) => metric.clone(),
            None => {
                let chosen =
                    ranking_metric(search.metric.as_deref(), &result.mean).map_err(|e| {
                        loaded.error(&["search", "metric"], e, "name one it reports".into())
                    })?;
                println!(
                    "{:<12} {:<32} {chosen} (mean ± std over {} folds)",
                    "trial", "values", search.folds
                );
                metric = Some(chosen.clone());
                chosen
            }
        };
        println!(
            "{:<12} {:<32} {:.6} ± {:.6}",
            format!("{}/{}", index + 1, trials.len()),
            trial.overrides().join(" "),
            result.mean.get(&metric).copied().unwrap_or(f64::NAN),
            result.std.get(&metric).copied().unwrap_or(f64::NAN),
        );
        lines.push(serde_json::to_string(&result).expect("trial results serialize"));
        results.push(result);
        // Rewritten whole after each trial: a stop at any moment keeps every finished one.
        writer.write(TRIALS_FILE, lines.join("\n") + "\n")?;
    }
    let metric = metric.unwrap_or_default();
    let best = best(&results, &metric)
        .cloned()
        .ok_or_else(|| Error::Usage {
            message: format!("no trial has a finite `{metric}`"),
            fix: "check the searched values".into(),
        })?;
    println!(
        "best: trial {} ({})",
        best.trial,
        Trial {
            values: best.values.clone()
        }
        .overrides()
        .join(" ")
    );
    // The best config refitted on every training row, as `kiln train` would.
    let mut overrides = options.set.clone();
    overrides.extend(
        Trial {
            values: best.values.clone(),
        }
        .overrides(),
    );
    let refit = registry.train(&TrainOptions {
        config: options.config.clone(),
        backend: options.backend.clone(),
        set: overrides,
        out: Some(writer.path(BEST_RUN_DIR)),
        resume: None,
    })?;
    let best_config = std::fs::read(refit.run_dir.join(run::CONFIG_FILE))
        .map_err(|e| Error::io("read", &refit.run_dir, e))?;
    writer.write(BEST_CONFIG_FILE, best_config)?;
    writer.write_json(
        SEARCH_FILE,
        &serde_json::json!({
            "metric": metric,
            "lower_is_better": lower_is_better(&metric),
            "folds": search.folds,
            "trials": results.len(),
            "best": best,
        }),
    )?;
    let dir = writer.commit()?;
    Ok(SearchReport {
        metric,
        results,
        best,
        refit_valid: refit.summary.valid,
        dir,
    })
}

/// The stopped search to continue: `out` (as `DIR` or `DIR.partial`), or the most recent
/// `NAME*.partial` under `base`.
fn stopped_search(out: Option<&Path>, base: &Path, name: &str) -> Result<Resumable> {
    let target = match out {
        Some(out) => {
            let text = out.to_string_lossy();
            PathBuf::from(
                text.strip_suffix(".partial")
                    .unwrap_or(&text)
                    .trim_end_matches('/'),
            )
        }
        None => std::fs::read_dir(base)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let file = entry.file_name().to_string_lossy().into_owned();
                let stopped = file.strip_suffix(".partial")?;
                let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
                stopped
                    .starts_with(name)
                    .then(|| (modified, base.join(stopped)))
            })
            .max()
            .map(|(_, target)| target)
            .ok_or_else(|| Error::Run {
                message: format!("no stopped search of `{name}` is here"),
                path: base.to_owned(),
                fix: "name it with `--out DIR`, or search without --resume".into(),
            })?,
    };
    let partial = PathBuf::from(format!("{}.partial", target.display()));
    if !partial.is_dir() {
        return Err(Error::Run {
            message: "no stopped search is here".into(),
            path: partial,
            fix: "search without --resume to start one".into(),
        });
    }
    Ok(Resumable { partial, target })
}

/// The trials a stopped search finished, and their lines (a line cut short by a stop is run
/// again), checked against the trials the config makes now.
fn finished_trials(path: &Path, trials: &[Trial]) -> Result<(Vec<TrialResult>, Vec<String>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let (mut results, mut lines) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let Ok(result) = serde_json::from_str::<TrialResult>(line) else {
            break;
        };
        let index = results.len();
        if trials.get(index).map(|t| &t.values) != Some(&result.values) {
            return Err(Error::Run {
                message: format!(
                    "trial {} of the stopped search set other values than the config's \
                     `[search]` now makes; resuming would mix two searches",
                    index + 1
                ),
                path: path.to_owned(),
                fix: "restore the `[search]` table (and `seed`), or search without --resume".into(),
            });
        }
        results.push(result);
        lines.push(line.to_owned());
    }
    Ok((results, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(text: &str) -> SearchConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_and_a_sample_of_it_is_seeded() {
        let s =
            search("\"model.l2\" = [0.1, 1.0, 10.0]\n\"model.solver\" = [\"sgd\", \"lbfgs\"]\n");
        let grid = trials(&s, 1).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(
            grid[1].overrides(),
            ["model.l2=0.1", "model.solver=\"lbfgs\""]
        );
        let sample = SearchConfig {
            trials: Some(4),
            ..s.clone()
        };
        let four = trials(&sample, 1).unwrap();
        assert_eq!(four.len(), 4);
        assert!(four.iter().all(|t| grid.contains(t)));
        assert_eq!(four, trials(&sample, 1).unwrap());
        let all = SearchConfig {
            trials: Some(50),
            ..s
        };
        assert_eq!(trials(&all, 1).unwrap(), grid);
    }

    #[test]
    fn distributions_draw_within_their_ranges() {
        let s = search(
            "trials = 200\n\"model.l2\" = { log_uniform = [0.001, 1000.0] }\n\
             \"model.c\" = { uniform = [1.0, 2.0] }\n\"model.k\" = { int_uniform = [2, 4] }\n",
        );
        let drawn = trials(&s, 3).unwrap();
        assert_eq!(drawn.len(), 200);
        let mut ks = std::collections::BTreeSet::new();
        let (mut small, mut large) = (false, false);
        for t in &drawn {
            let l2 = t.values["model.l2"].as_float().unwrap();
            assert!((0.001..=1000.0).contains(&l2));
            small |= l2 < 0.01;
            large |= l2 > 100.0;
            let c = t.values["model.c"].as_float().unwrap();
            assert!((1.0..=2.0).contains(&c));
            ks.insert(t.values["model.k"].as_integer().unwrap());
        }
        assert!(small && large, "a log scale reaches both decades");
        assert_eq!(ks.into_iter().collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn bad_search_tables_are_refused() {
        let err = |text: &str| trials(&search(text), 0).unwrap_err();
        assert_eq!(err("folds = 5\n"), SearchError::Empty);
        assert_eq!(err("l2 = [1.0]\n"), SearchError::NotAConfigKey("l2".into()));
        assert_eq!(
            err("\"model.l2\" = []\n"),
            SearchError::NoValues("model.l2".into())
        );
        assert_eq!(
            err("\"model.l2\" = { uniform = [0.1, 1.0] }\n"),
            SearchError::NeedsTrials("model.l2".into())
        );
        assert!(matches!(
            err("trials = 3\n\"model.l2\" = { log_uniform = [0.0, 1.0] }\n"),
            SearchError::BadRange { .. }
        ));
        assert!(matches!(
            err("folds = 1\n\"model.l2\" = [1.0]\n"),
            SearchError::BadSetting(_)
        ));
    }

    #[test]
    fn the_best_trial_is_the_highest_score_or_the_lowest_loss() {
        let result = |trial, accuracy, log_loss| TrialResult {
            trial,
            values: BTreeMap::new(),
            mean: [
                ("accuracy".to_owned(), accuracy),
                ("log_loss".to_owned(), log_loss),
            ]
            .into_iter()
            .collect(),
            std: Metrics::new(),
        };
        let results = [
            result(1, 0.9, 0.3),
            result(2, 0.95, 0.35),
            result(3, 0.95, 0.2),
        ];
        assert_eq!(
            best(&results, "accuracy").unwrap().trial,
            2,
            "first of ties"
        );
        assert_eq!(best(&results, "log_loss").unwrap().trial, 3);
        let reported = &results[0].mean;
        assert_eq!(ranking_metric(None, reported).unwrap(), "accuracy");
        assert!(
            ranking_metric(Some("r2"), reported)
                .unwrap_err()
                .contains("accuracy, log_loss")
        );
    }
}
