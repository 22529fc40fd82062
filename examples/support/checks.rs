//! The claims an example makes (the loss falls, the test accuracy clears a
//! floor, two computations agree) and what happens when one does not hold.
//!
//! In CI's check mode (`--quick`) a failed claim makes the example exit 1:
//! that is how CI notices an example that stopped learning. In any other
//! run the reader is experimenting (`--epochs 1`, `--lr 100`), so a claim
//! that does not hold is only noted, and the example exits 0.

use super::flags::Args;
use super::notebook::{fix_negative_zero, wrap, MAX_WIDTH};
use super::prose::count;

/// Collects the claims of one run; [`Checks::finish`] reports them.
pub struct Checks {
    enforce: bool,
    failed: Vec<String>,
}

impl Checks {
    /// Claims are enforced only under `--quick`.
    pub fn new(args: &Args) -> Checks {
        Checks {
            enforce: args.quick,
            failed: Vec::new(),
        }
    }

    /// Records the claim `what` (worded as a statement that should hold).
    pub fn claim(&mut self, holds: bool, what: &str) {
        if !holds {
            self.failed.push(fix_negative_zero(what));
        }
    }

    /// The last loss is below `fraction` of the first.
    // Only the examples that train call this one.
    #[allow(dead_code)]
    pub fn loss_fell(&mut self, what: &str, losses: &[f64], fraction: f64) {
        match (losses.first(), losses.last()) {
            (Some(&first), Some(&last)) => self.claim(
                last.is_finite() && last < first * fraction,
                &format!(
                    "{what}: the loss falls below {fraction} × its first value \
                     (first {first:.6}, last {last:.6})"
                ),
            ),
            _ => self.claim(
                false,
                &format!("{what}: the loss falls (there was no training)"),
            ),
        }
    }

    /// `accuracy` is at least `floor`.
    // Only the three real-data examples (support::fit) have accuracy floors.
    #[allow(dead_code)]
    pub fn accuracy_at_least(&mut self, what: &str, accuracy: f64, floor: f64) {
        self.claim(
            accuracy >= floor,
            &format!("{what}: accuracy {accuracy:.4} is at least {floor:.4}"),
        );
    }

    /// Reports the claims that did not hold: in check mode as errors, and
    /// then exits 1; otherwise as notes on stdout.
    pub fn finish(self) {
        if self.enforce {
            for what in &self.failed {
                eprintln!("error: check failed: {what}");
            }
            if !self.failed.is_empty() {
                std::process::exit(1);
            }
        } else if !self.failed.is_empty() {
            let intro = format!(
                "note: with these settings {} the example makes did not hold (CI's --quick \
                 run checks them; here they are only noted):",
                count(self.failed.len(), "claim")
            );
            for line in wrap(&intro, MAX_WIDTH) {
                println!("{line}");
            }
            for what in &self.failed {
                for (k, line) in wrap(what, MAX_WIDTH - 4).iter().enumerate() {
                    println!("{}{line}", if k == 0 { "  - " } else { "    " });
                }
            }
        }
    }
}
