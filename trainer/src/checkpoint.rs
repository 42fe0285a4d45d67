//! Checkpoints: everything a fit needs to continue exactly where it stopped, in one file
//! written atomically (a temporary file renamed over the previous one), so a killed process
//! leaves either the old checkpoint or the new one, never a torn file. The file is not fsynced:
//! iterative fits checkpoint every step, and a kill, unlike a power cut, loses nothing the
//! kernel has been given.
//!
//! Layout: the magic `KILNCKP3`, then four blocks, each a little-endian `u64` length and its
//! bytes: the loop state (CBOR, which keeps every bit of an f64, where JSON text read back by
//! serde_json can be one ulp off), the model, the optimizer state, and the best model so far
//! (burnpack each; the last is empty when early stopping is off); then the CRC-32 of all that,
//! a little-endian `u32`, so a damaged file is refused rather than resumed into another model.
//! Checkpoints of the format before it (`KILNCKP2`, no checksum) still read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::{self, Durability};
use crate::early_stopping::EarlyState;
use crate::error::{Error, Result};
use crate::records::EpochRecord;
use crate::schedule::PlateauState;

/// The checkpoint's file name inside a run directory.
pub const FILE: &str = "checkpoint.kiln";
const MAGIC: &[u8; 8] = b"KILNCKP3";
/// The format before checksums (read, never written).
const MAGIC_V2: &[u8; 8] = b"KILNCKP2";

/// Where the training loop is; with the blobs, all it needs to go on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Epochs completed.
    pub epoch: usize,
    /// Batches done in the epoch under way (0 at an epoch boundary).
    pub batch: usize,
    /// Optimizer steps taken.
    pub step: usize,
    /// The epoch under way's sum of batch loss × batch rows, as the device summed it (the
    /// f32 round-trips exactly through JSON).
    pub epoch_loss_sum: f32,
    /// One record per completed epoch (or step of an iterative fit).
    pub history: Vec<EpochRecord>,
    /// Reduce-on-plateau's memory.
    pub plateau: PlateauState,
    /// Early stopping's memory.
    pub early: EarlyState,
    /// Seconds spent fitting before this checkpoint, so elapsed times carry on.
    pub elapsed_seconds: f64,
    /// A fingerprint of the training data when the run started (see
    /// [`crate::run::fingerprint`]), so a resume can tell the data changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fingerprint: Option<String>,
    /// An iterative fit's own progress (see `Estimator::fit_state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_state: Option<serde_json::Value>,
}

impl Default for LoopState {
    fn default() -> Self {
        Self {
            epoch: 0,
            batch: 0,
            step: 0,
            epoch_loss_sum: 0.0,
            history: Vec::new(),
            plateau: PlateauState::default(),
            early: EarlyState::default(),
            elapsed_seconds: 0.0,
            data_fingerprint: None,
            fit_state: None,
        }
    }
}

/// A checkpoint as read from disk.
#[derive(Debug)]
pub struct Checkpoint {
    /// Where the training loop is.
    pub state: LoopState,
    /// The model's weights (burnpack).
    pub model: Vec<u8>,
    /// The optimizer's state (burnpack; empty for an iterative fit).
    pub optimizer: Vec<u8>,
    /// The best model so far (burnpack); `None` when early stopping is off.
    pub best: Option<Vec<u8>>,
}

impl Checkpoint {
    /// Writes `path` atomically.
    pub fn write(
        path: &Path,
        state: &LoopState,
        model: &[u8],
        optimizer: &[u8],
        best: Option<&[u8]>,
    ) -> Result<()> {
        let mut encoded = Vec::new();
        ciborium::into_writer(state, &mut encoded).expect("the loop state serializes to CBOR");
        let blocks = [&encoded[..], model, optimizer, best.unwrap_or_default()];
        let mut bytes = Vec::with_capacity(12 + blocks.iter().map(|b| 8 + b.len()).sum::<usize>());
        bytes.extend_from_slice(MAGIC);
        for block in blocks {
            bytes.extend_from_slice(&(block.len() as u64).to_le_bytes());
            bytes.extend_from_slice(block);
        }
        let checksum = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        atomic::write_bytes(path, "write the checkpoint", Durability::Buffered, &bytes)
    }

    /// Reads a checkpoint written by [`Checkpoint::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read the checkpoint", path, e))?;
        let damaged = |what: &str| Error::Run {
            message: format!("the checkpoint is damaged or not a kiln checkpoint ({what})"),
            path: path.to_owned(),
            fix: "start the run again without --resume".into(),
        };
        let mut rest = match bytes.split_first_chunk::<8>() {
            Some((magic, rest)) if magic == MAGIC => {
                let (body, checksum) = rest
                    .split_last_chunk::<4>()
                    .ok_or_else(|| damaged("truncated"))?;
                let whole = &bytes[..bytes.len() - 4];
                if crc32fast::hash(whole) != u32::from_le_bytes(*checksum) {
                    return Err(damaged("its checksum does not match"));
                }
                body
            }
            Some((magic, rest)) if magic == MAGIC_V2 => rest,
            _ => return Err(damaged("wrong magic")),
        };
        let mut blocks = Vec::with_capacity(4);
        for _ in 0..4 {
            let (len, tail) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| damaged("truncated"))?;
            let len = u64::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(damaged("truncated"));
            }
            let (block, tail) = tail.split_at(len);
            blocks.push(block.to_vec());
            rest = tail;
        }
        let best = blocks.pop().filter(|b| !b.is_empty());
        let optimizer = blocks.pop().unwrap_or_default();
        let model = blocks.pop().unwrap_or_default();
        let state =
            ciborium::from_reader(&blocks[0][..]).map_err(|e| damaged(&format!("state: {e}")))?;
        Ok(Self {
            state,
            model,
            optimizer,
            best,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_torn_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        // serde_json reads this f64's shortest text back one ulp off.
        let loss = 0.20890126942121398f64;
        let state = LoopState {
            epoch: 3,
            epoch_loss_sum: 0.1f32 + 0.2f32,
            elapsed_seconds: loss,
            fit_state: Some(serde_json::json!({ "x": [loss, 1.5], "n": 7 })),
            ..Default::default()
        };
        Checkpoint::write(&path, &state, b"model", b"optim", None).unwrap();
        let read = Checkpoint::read(&path).unwrap();
        assert_eq!(read.state, state);
        assert_eq!(
            read.state.epoch_loss_sum.to_bits(),
            state.epoch_loss_sum.to_bits()
        );
        assert_eq!(read.state.elapsed_seconds.to_bits(), loss.to_bits());
        assert_eq!(
            (&read.model[..], &read.optimizer[..]),
            (&b"model"[..], &b"optim"[..])
        );
        assert!(read.best.is_none());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 1, "no temporary file is left beside the checkpoint");

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let error = Checkpoint::read(&path).unwrap_err().to_string();
        assert!(
            error.contains("damaged") && error.contains("checksum does not match"),
            "{error}"
        );
        // One flipped bit anywhere is refused.
        for at in [9, bytes.len() / 2, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            std::fs::write(&path, &flipped).unwrap();
            let error = Checkpoint::read(&path).unwrap_err().to_string();
            assert!(
                error.contains("checksum does not match"),
                "byte {at}: {error}"
            );
        }
        // The format before checksums still reads.
        let mut legacy = b"KILNCKP2".to_vec();
        legacy.extend_from_slice(&bytes[8..bytes.len() - 4]);
        std::fs::write(&path, &legacy).unwrap();
        assert_eq!(Checkpoint::read(&path).unwrap().state, state);
        std::fs::write(&path, &legacy[..legacy.len() - 3]).unwrap();
        let error = Checkpoint::read(&path).unwrap_err().to_string();
        assert!(error.contains("truncated"), "{error}");
    }
}
