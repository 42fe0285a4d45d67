//! The run directory: what a training run leaves behind, written so that a run that fails or is
//! killed never looks complete.
//!
//! ```text
//! RUN/config.toml     the resolved config (defaults filled in, --set applied, absolute paths)
//! RUN/model.bpk       the weights (burnpack)
//! RUN/model.json      what predict needs: model config, data shape, columns, scaling, labels
//! RUN/metrics.jsonl   one JSON object per epoch (gradient fit) or step (iterative fit)
//! RUN/summary.json    final metrics, load_seconds, fit_seconds; written last
//! RUN/checkpoint.kiln the last checkpoint (gradient fits): `kiln train --resume` continues it
//! RUN/training.png    loss and main metric per epoch
//! ```
//! The run is built in a sibling `RUN.partial` directory and renamed to `RUN` only once
//! everything is written. A run that fails before its first checkpoint removes its partial
//! directory; one stopped later (killed, interrupted, diverged) keeps it for `--resume`.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use kiln_model_zoo::{DataShape, Estimator, Preprocessing};
use serde::{Deserialize, Serialize};

use crate::atomic::{self, Durability};
use crate::checkpoint;
use crate::error::{Error, Result};

/// The resolved config.
pub const CONFIG_FILE: &str = "config.toml";
/// The weights.
pub const MODEL_FILE: &str = "model.bpk";
/// What predict needs besides the weights ([`ModelMeta`]).
pub const META_FILE: &str = "model.json";
/// One JSON record per epoch or step.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// The final metrics and times; written last.
pub const SUMMARY_FILE: &str = "summary.json";
/// The loss and main metric per epoch, drawn.
pub const PLOT_FILE: &str = "training.png";

/// Everything about a trained model except its weights: `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The kiln version that wrote it.
    pub kiln_version: String,
    /// The backend it was trained on.
    pub backend: String,
    /// The model's `[model]` table: its `kind` and every key, defaults filled in (see
    /// [`Estimator::write_config`]).
    pub model: serde_json::Value,
    /// The shape of the data it was fitted on.
    pub shape: DataShape,
    /// The columns, scaling and class names fitted with it.
    pub preprocessing: Preprocessing,
    /// The CRC-32 of `model.bpk`, checked when the weights are loaded (absent in runs
    /// written before kiln kept it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_crc32: Option<u32>,
}

impl ModelMeta {
    /// The meta of a model of `config` trained on `backend`.
    pub fn new<M: Estimator>(
        config: &M::Config,
        backend: &str,
        shape: DataShape,
        preprocessing: Preprocessing,
    ) -> Self {
        Self {
            kiln_version: env!("CARGO_PKG_VERSION").into(),
            backend: backend.into(),
            model: M::write_config(config),
            shape,
            preprocessing,
            weights_crc32: None,
        }
    }

    /// The model's `kind`.
    pub fn kind(&self) -> &str {
        self.model
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    }
}

/// The lock file of a run being written: its writer holds an exclusive lock on it, and its
/// text says which process that is.
pub const LOCK_FILE: &str = ".kiln-lock";

/// A run directory being written, by this process alone (it holds the directory's lock).
/// Dropped without [`RunWriter::commit`], it deletes itself unless it holds a checkpoint.
#[derive(Debug)]
pub struct RunWriter {
    partial: PathBuf,
    target: PathBuf,
    committed: bool,
    /// The locked lock file; the lock goes with it.
    lock: Option<std::fs::File>,
}

/// Takes the exclusive lock of the run being written in `partial` (creating the directory),
/// or says which process holds it.
fn lock_run(partial: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(partial).map_err(|e| Error::io("create directory", partial, e))?;
    let path = partial.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("lock", &path, e))?;
    match file.try_lock() {
        Ok(()) => {
            use std::io::Write;
            let holder = format!("pid {}\n", std::process::id());
            let mut writer = &file;
            file.set_len(0)
                .and_then(|()| writer.write_all(holder.as_bytes()))
                .map_err(|e| Error::io("lock", &path, e))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process"
            } else {
                holder
            };
            Err(Error::Run {
                message: format!("another kiln ({holder}) is writing this run right now"),
                path: partial.to_owned(),
                fix: "wait for it to finish, or stop it (Ctrl-C saves a checkpoint) and then \
                      `--resume`"
                    .into(),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}

impl RunWriter {
    /// Starts a run that will end up at `target`, which must not exist yet (or be empty).
    pub fn create(target: &Path) -> Result<Self> {
        if target.is_file() {
            return Err(Error::Run {
                message: "the output names a file, not a directory".into(),
                path: target.to_owned(),
                fix: "give `--out` the path of a directory to create, e.g. `--out runs/iris`"
                    .into(),
            });
        }
        if target.exists()
            && std::fs::read_dir(target)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(Error::Run {
                message: "the output directory already exists and is not empty".into(),
                path: target.to_owned(),
                fix: "choose another `--out`, or delete that directory".into(),
            });
        }
        let partial = partial_dir(target);
        // First the lock: a run being written by another process is neither resumable nor
        // debris to clear away.
        let lock = partial.exists().then(|| lock_run(&partial)).transpose()?;
        if partial.join(checkpoint::FILE).exists() {
            return Err(Error::Run {
                message: "a stopped run with a checkpoint is there".into(),
                path: partial,
                fix: format!(
                    "continue it with `kiln train --resume {}`, or delete it to start over",
                    target.display()
                ),
            });
        }
        if partial.exists() {
            // Left by a run killed before its first checkpoint: nothing in it to keep.
            drop(lock);
            std::fs::remove_dir_all(&partial).map_err(|e| Error::io("remove", &partial, e))?;
        }
        let lock = lock_run(&partial)?;
        Ok(Self {
            partial,
            target: target.to_owned(),
            committed: false,
            lock: Some(lock),
        })
    }

    /// Reopens the partial directory of a stopped run to continue it, taking its lock.
    pub fn reopen(run: &Resumable) -> Result<Self> {
        let lock = lock_run(&run.partial)?;
        Ok(Self {
            partial: run.partial.clone(),
            target: run.target.clone(),
            committed: false,
            lock: Some(lock),
        })
    }

    /// Where the finished directory goes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The directory being written.
    pub fn dir(&self) -> &Path {
        &self.partial
    }

    /// A path inside the run being written.
    pub fn path(&self, file: &str) -> PathBuf {
        self.partial.join(file)
    }

    /// Writes `contents` to `file` in the run being written.
    pub fn write(&self, file: &str, contents: impl AsRef<[u8]>) -> Result<()> {
        atomic::write_bytes(
            &self.path(file),
            "write",
            Durability::Synced,
            contents.as_ref(),
        )
    }

    /// Writes `value` as pretty JSON to `file` in the run being written.
    pub fn write_json(&self, file: &str, value: &impl Serialize) -> Result<()> {
        write_json(&self.path(file), value)
    }

    /// Saves the weights and what predict needs.
    pub fn save_model<M: Module>(&self, model: &M, meta: &ModelMeta) -> Result<()> {
        save_model(&self.partial, model, meta)
    }

    /// Moves the finished run into place; returns its final path.
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.target.exists() {
            // An empty directory the user named with --out.
            std::fs::remove_dir(&self.target).map_err(|e| Error::io("replace", &self.target, e))?;
        }
        // The finished run carries no lock file; the lock itself is held until the rename.
        let lock_path = self.partial.join(LOCK_FILE);
        std::fs::remove_file(&lock_path).map_err(|e| Error::io("remove", &lock_path, e))?;
        std::fs::rename(&self.partial, &self.target)
            .map_err(|e| Error::io("move the run into", &self.target, e))?;
        self.committed = true;
        self.lock = None;
        Ok(self.target.clone())
    }
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        // A checkpoint is worth keeping: the run can be resumed from it.
        if !self.committed && !self.partial.join(checkpoint::FILE).exists() {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

/// A fingerprint of a data file: its size, its modification time and a checksum of its first
/// and last 64 KiB. Cheap on any size of file, and it changes when the file is edited,
/// replaced or regenerated. `None` when the file cannot be read.
pub fn fingerprint(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    const EDGE: u64 = 64 << 10;
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = Vec::new();
    (&mut file).take(EDGE).read_to_end(&mut buffer).ok()?;
    hasher.update(&buffer);
    if meta.len() > 2 * EDGE {
        buffer.clear();
        file.seek(SeekFrom::End(-(EDGE as i64))).ok()?;
        file.read_to_end(&mut buffer).ok()?;
        hasher.update(&buffer);
    }
    Some(format!(
        "{} bytes, modified {}.{:09}, crc32 {:08x}",
        meta.len(),
        modified.as_secs(),
        modified.subsec_nanos(),
        hasher.finalize()
    ))
}

/// Writes `model.bpk` (the weights) and `model.json` (`meta`, with the weights' checksum) into
/// `dir`, each whole or not at all.
pub fn save_model<M: Module>(dir: &Path, model: &M, meta: &ModelMeta) -> Result<()> {
    let path = dir.join(MODEL_FILE);
    let weights = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Run {
            message: format!("cannot save the model: {e}"),
            path: path.clone(),
            fix: "report this as a kiln bug".into(),
        })?;
    atomic::write_bytes(&path, "write", Durability::Synced, &weights)?;
    let meta = ModelMeta {
        weights_crc32: Some(crc32fast::hash(&weights)),
        ..meta.clone()
    };
    write_json(&dir.join(META_FILE), &meta)
}

/// Writes `value` as pretty JSON to `path`, whole or not at all.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("kiln's own types serialize to JSON");
    text.push('\n');
    atomic::write_bytes(path, "write", Durability::Synced, text.as_bytes())
}

/// `RUN.partial`, where `RUN` is built.
fn partial_dir(target: &Path) -> PathBuf {
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// The first `runs/NAME`, `runs/NAME-2`, ... under `base` that is free, with no stopped run
/// waiting under its name either.
pub fn default_run_dir(base: &Path, name: &str) -> PathBuf {
    std::iter::once(base.join(name))
        .chain((2..).map(|i| base.join(format!("{name}-{i}"))))
        .find(|p| !p.exists() && !partial_dir(p).exists())
        .expect("some index is free")
}

/// A stopped run that `--resume` can continue.
#[derive(Clone, Debug)]
pub struct Resumable {
    /// `RUN.partial`, holding the checkpoint and the run's config.
    pub partial: PathBuf,
    /// `RUN`, where the finished run goes.
    pub target: PathBuf,
}

/// The run `--resume` names: `RUN` or `RUN.partial` itself, or with no name the most recent
/// stopped run under `base` started from a config named `stem`.
pub fn find_resumable(named: Option<&Path>, base: &Path, stem: &str) -> Result<Resumable> {
    let run = match named {
        Some(path) => {
            let text = path.to_string_lossy();
            let target = match text.strip_suffix(".partial") {
                Some(target) => PathBuf::from(target.trim_end_matches('/')),
                None => PathBuf::from(text.trim_end_matches('/')),
            };
            Resumable {
                partial: partial_dir(&target),
                target,
            }
        }
        None => {
            let stopped = std::fs::read_dir(base)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let run = name.strip_suffix(".partial")?;
                    let ours = run == stem
                        || run
                            .strip_prefix(stem)
                            .and_then(|r| r.strip_prefix('-'))
                            .is_some_and(|i| i.parse::<u32>().is_ok());
                    let checkpoint = entry.path().join(checkpoint::FILE);
                    let modified = checkpoint.metadata().and_then(|m| m.modified()).ok()?;
                    ours.then(|| (modified, base.join(run)))
                })
                .max();
            let Some((_, target)) = stopped else {
                return Err(Error::Run {
                    message: format!("no stopped run of `{stem}` with a checkpoint is here"),
                    path: base.to_owned(),
                    fix: "name the run with `--resume RUN_DIR`, or train without --resume".into(),
                });
            };
            Resumable {
                partial: partial_dir(&target),
                target,
            }
        }
    };
    if !run.partial.join(checkpoint::FILE).is_file() {
        let (message, fix) = if run.target.join(SUMMARY_FILE).is_file() {
            (
                "this run is complete; there is nothing to resume",
                "train a new run, e.g. with more `--set train.epochs=...`",
            )
        } else {
            (
                "no checkpoint of a stopped run is here (was it stopped before its first \
                 checkpoint?)",
                "start the run again without --resume",
            )
        };
        return Err(Error::Run {
            message: message.into(),
            path: run.partial,
            fix: fix.into(),
        });
    }
    Ok(run)
}

/// A trained model loaded from a run directory.
#[derive(Debug)]
pub struct SavedModel<M: Estimator> {
    /// `model.json`.
    pub meta: ModelMeta,
    /// The model's config, read from the meta.
    pub config: M::Config,
    /// The config checked against the data's shape.
    pub params: M::Params,
    /// The model with its weights.
    pub model: M,
}

/// Reads `model.json` of a completed run.
pub fn read_meta(run: &Path) -> Result<ModelMeta> {
    let not_a_run = |what: &str| {
        Error::Run {
        message: format!("this is not a completed kiln run ({what})"),
        path: run.to_owned(),
        fix: "pass the directory `kiln train` wrote (it holds summary.json, model.json and model.bpk)".into(),
    }
    };
    if !run.join(SUMMARY_FILE).is_file() {
        return Err(not_a_run("no summary.json"));
    }
    let path = run.join(META_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    serde_json::from_str(&text).map_err(|e| not_a_run(&format!("model.json is not valid: {e}")))
}

/// Refuses weights whose checksum is not the one `model.json` recorded: a damaged file would
/// load and predict garbage.
pub fn check_weights(run: &Path, meta: &ModelMeta, weights: &[u8]) -> Result<()> {
    match meta.weights_crc32 {
        Some(want) if crc32fast::hash(weights) != want => Err(Error::Run {
            message: format!(
                "model.bpk is damaged: its checksum is {:08x}, model.json recorded {want:08x}",
                crc32fast::hash(weights)
            ),
            path: run.to_owned(),
            fix: "restore the run directory from a copy, or train it again".into(),
        }),
        _ => Ok(()),
    }
}

/// Loads the weights of a completed run onto `device`.
pub fn load_model<M: Estimator>(
    run: &Path,
    meta: ModelMeta,
    device: &Device,
) -> Result<SavedModel<M>> {
    let invalid = |what: String| Error::Run {
        message: what,
        path: run.to_owned(),
        fix: "retrain the model; the run directory is damaged or from another kiln version".into(),
    };
    let config = M::read_config(meta.model.clone())
        .map_err(|e| invalid(format!("model.json does not describe a valid model: {e}")))?;
    let params = M::check(&config, &meta.shape)
        .map_err(|e| invalid(format!("model.json does not describe a valid model: {e}")))?;
    let weights = std::fs::read(run.join(MODEL_FILE))
        .map_err(|e| invalid(format!("cannot read model.bpk: {e}")))?;
    check_weights(run, &meta, &weights)?;
    kiln_model_zoo::estimator::check_shape_fits::<M>(&params, &meta.shape, &weights)
        .map_err(|e| invalid(format!("model.json does not match model.bpk: {e}")))?;
    let model = M::load_weights(&params, &weights, device)
        .map_err(|e| invalid(format!("model.bpk does not match model.json: {e}")))?;
    Ok(SavedModel {
        meta,
        config,
        params,
        model,
    })
}
