//! Progress on stderr: an indicatif bar on a terminal, one plain line per epoch otherwise (CI
//! logs, pipes).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::records::EpochRecord;

/// Reports training progress.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    /// The validation metric shown beside the loss.
    metric: &'static str,
}

impl Progress {
    /// A progress report over at most `total` epochs (or steps), showing `metric`.
    pub fn new(total: usize, metric: &'static str, label: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar
        });
        Self { bar, total, metric }
    }

    /// Shows one finished epoch (or step): its loss and, when present, the validation loss
    /// and metric.
    pub fn epoch(&self, record: &EpochRecord) {
        let mut message = format!("loss {:.5}", record.train_loss);
        if let Some(valid) = record.valid_loss {
            message.push_str(&format!(" valid_loss {valid:.5}"));
        }
        if let Some(value) = record.valid.get(self.metric) {
            message.push_str(&format!(" valid_{} {value:.4}", self.metric));
        }
        match &self.bar {
            Some(bar) => {
                bar.set_position(record.epoch as u64);
                bar.set_message(message);
            }
            None => eprintln!("epoch {}/{} {message}", record.epoch, self.total),
        }
    }

    /// Clears the bar; nothing on a plain stream.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
