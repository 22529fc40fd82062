//! The per-epoch lines of a training loop and the progress bar under them.
//!
//! Each printed line is machine-readable, `epoch=<n> loss=<v> acc=<v>`
//! (`acc` left out where there is no accuracy, more `name=<v>` fields
//! appended where a run measures more, such as a test loss). By default
//! only a readable subset is printed (the first, every k-th and the last
//! epoch, some 8 to 17 lines) so that the lines do not bury the notebook's
//! prose; `--every N` and `--verbose` print more.

use std::io::{IsTerminal, Write};

use super::flags::Args;
use super::notebook::fix_negative_zero;
use super::prose::ordinal;

/// The machine-readable training line: `epoch=<n> loss=<value> acc=<value>`.
pub fn epoch_line(epoch: usize, loss: f64, acc: Option<f64>) -> String {
    epoch_line_with(epoch, loss, acc, &[])
}

/// [`epoch_line`] with more `name=value` fields at its end (a test loss,
/// say), each value formatted by the caller.
pub fn epoch_line_with(
    epoch: usize,
    loss: f64,
    acc: Option<f64>,
    more: &[(&str, String)],
) -> String {
    // A diverging loss (linear_regression with --lr 0.3) reaches 1e300:
    // beyond a billion the exponent form keeps the line short and still
    // parses as a number.
    let loss = if loss.abs() < 1e9 || !loss.is_finite() {
        format!("{loss:.6}")
    } else {
        format!("{loss:.6e}")
    };
    let mut line = match acc {
        Some(a) => format!("epoch={epoch} loss={loss} acc={a:.4}"),
        None => format!("epoch={epoch} loss={loss}"),
    };
    for (name, value) in more {
        line.push_str(&format!(" {name}={value}"));
    }
    fix_negative_zero(&line)
}

/// The default spacing of the printed epoch lines for a run of `epochs`:
/// every line up to 20 epochs, otherwise a 1-2-5 step (1, 2, 5, 10, 20,
/// ...) giving at most 15 multiples.
pub fn default_every(epochs: usize) -> usize {
    if epochs <= 20 {
        return 1;
    }
    let mut step = 1;
    for k in 0.. {
        let base = 10usize.pow(k);
        for m in [1, 2, 5] {
            step = m * base;
            if epochs.div_ceil(step) <= 15 {
                return step;
            }
        }
    }
    step
}

/// Whether the line of `epoch` (counting from 1) of `total` is printed when
/// lines are `every` apart: the first, the multiples and the last.
pub fn shows_epoch(epoch: usize, total: usize, every: usize) -> bool {
    epoch == 1 || epoch == total || epoch.is_multiple_of(every.max(1))
}

/// Prints the chosen epoch lines of one training run above a progress bar.
pub struct EpochLog {
    every: usize,
    total: usize,
    quiet: bool,
    bar: Progress,
}

impl EpochLog {
    /// A log for `args.epochs` epochs; `label` names the run on the bar.
    pub fn new(label: &str, args: &Args) -> EpochLog {
        EpochLog::with_epochs(label, args.epochs, args)
    }

    /// A log for a run of `total` epochs rather than `--epochs` (a second
    /// model that trains for a fraction of them); the other flags apply.
    pub fn with_epochs(label: &str, total: usize, args: &Args) -> EpochLog {
        let every = if args.verbose {
            1
        } else {
            args.every.unwrap_or_else(|| default_every(total))
        };
        if !args.quiet && every > 1 && total > 1 {
            println!(
                "(printing the lines of epoch 1, every {} epoch and the last; --verbose prints \
                 all {total})",
                ordinal(every)
            );
        }
        EpochLog {
            every,
            total,
            quiet: args.quiet,
            bar: Progress::new(label, total, args.quiet),
        }
    }

    /// Records one epoch: prints its line if it is one of the chosen ones,
    /// and a blank line after the last, to set the lines off from the prose.
    pub fn epoch(&mut self, epoch: usize, loss: f64, acc: Option<f64>) {
        self.epoch_with(epoch, loss, acc, &[]);
    }

    /// [`EpochLog::epoch`] with more fields on the line (see
    /// [`epoch_line_with`]).
    pub fn epoch_with(
        &mut self,
        epoch: usize,
        loss: f64,
        acc: Option<f64>,
        more: &[(&str, String)],
    ) {
        if !self.quiet && shows_epoch(epoch, self.total, self.every) {
            self.bar.line(&epoch_line_with(epoch, loss, acc, more));
        }
        self.bar.tick();
        if !self.quiet && epoch == self.total {
            println!();
        }
    }
}

/// A progress bar on stderr, drawn only when stdout is a terminal and the
/// run is not quiet (so it never ends up in a file or a pipe).
pub struct Progress {
    total: usize,
    done: usize,
    enabled: bool,
    label: String,
}

impl Progress {
    /// A bar for `total` steps.
    pub fn new(label: &str, total: usize, quiet: bool) -> Progress {
        Progress {
            total,
            done: 0,
            enabled: !quiet && total > 0 && std::io::stdout().is_terminal(),
            label: label.to_string(),
        }
    }

    /// Prints `text` as a line on stdout without tearing the bar: the bar is
    /// cleared first and redrawn after.
    pub fn line(&mut self, text: &str) {
        if self.enabled {
            self.clear();
        }
        println!("{text}");
        if self.enabled && self.done < self.total {
            self.draw();
        }
    }

    /// Advances one step and redraws (and clears the bar after the last).
    pub fn tick(&mut self) {
        self.done += 1;
        if self.enabled {
            self.draw();
            if self.done >= self.total {
                self.clear();
            }
        }
    }

    const WIDTH: usize = 30;

    fn clear(&self) {
        eprint!("\r{}\r", " ".repeat(self.label.len() + Self::WIDTH + 24));
        let _ = std::io::stderr().flush();
    }

    fn draw(&self) {
        let filled = Self::WIDTH * self.done.min(self.total) / self.total.max(1);
        eprint!(
            "\r{} [{}{}] {}/{}",
            self.label,
            "#".repeat(filled),
            ".".repeat(Self::WIDTH - filled),
            self.done,
            self.total
        );
        let _ = std::io::stderr().flush();
    }
}
