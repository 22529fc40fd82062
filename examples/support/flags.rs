//! The examples' command-line flags.
//!
//! Every example declares which flags it takes (a [`Spec`]); `--help` lists
//! exactly those, and any other flag is an error. Parsing is `lexopt`'s, so
//! `--epochs 5`, `--epochs=5` and `-q` work as on any other command line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What an example says about itself and which of the shared flags it reads.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The example's name (`cargo run --example NAME`).
    pub name: &'static str,
    /// What it shows, for `--help`.
    pub about: &'static str,
    /// The default number of epochs, if the example trains (this also
    /// enables `--every` and `--verbose`, which choose the epoch lines).
    pub epochs: Option<usize>,
    /// The default learning rate, if the example takes one.
    pub lr: Option<f64>,
    /// What `--seed` seeds, if anything is random.
    pub seed: Option<&'static str>,
    /// What the example writes into `--out`, if it writes files.
    pub out: Option<&'static str>,
    /// Whether the example takes `--save-init DIR` (the PyTorch references).
    pub save_init: bool,
}

impl Spec {
    /// A spec with only the flags every example takes (`--quiet`, `--quick`).
    pub const fn new(name: &'static str, about: &'static str) -> Spec {
        Spec {
            name,
            about,
            epochs: None,
            lr: None,
            seed: None,
            out: None,
            save_init: false,
        }
    }
}

/// The parsed flags. A flag the example did not declare keeps its
/// placeholder value; examples read only the flags they declare.
#[derive(Clone, Debug)]
pub struct Args {
    /// Training epochs (steps).
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seed for every random number drawn.
    pub seed: u64,
    /// Print only the results (no explanations, no epoch lines).
    pub quiet: bool,
    /// Where files are written (checked and created by [`Args::parse`]).
    pub out: PathBuf,
    /// CI's check mode: the example's claims are checked (exit 1 if one
    /// fails), with a quarter of the default epochs.
    pub quick: bool,
    /// `--every N`: print the epoch line of every N-th epoch.
    pub every: Option<usize>,
    /// `--verbose`: print every epoch line.
    pub verbose: bool,
    /// `--save-init DIR`: write the initial weights (safetensors) for
    /// `examples/reference/make_references.py`, then stop.
    pub save_init: Option<PathBuf>,
    spec: Spec,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these flags.
    Run(Args),
    /// Print the help text and stop.
    Help,
}

impl Args {
    /// Parses the process's arguments against `spec`. Prints the help and
    /// exits 0 on `--help`; prints one line and the usage and exits 2 on a
    /// bad flag or an unusable `--out`, before the example does any work.
    pub fn parse(spec: Spec) -> Args {
        let args = match parse_from(spec, std::env::args_os().skip(1)) {
            Ok(Parsed::Run(args)) => args,
            Ok(Parsed::Help) => {
                print!("{}", help(&spec));
                std::process::exit(0);
            }
            Err(message) => usage_error(&spec, &message),
        };
        if spec.out.is_some() {
            if let Err(message) = prepare_out(&args.out) {
                usage_error(&spec, &message);
            }
        }
        args
    }

    /// The settings this run uses, as flags (`--epochs 100 --lr 0.5 ...`):
    /// the notebook prints them under its title.
    pub fn settings(&self) -> String {
        let mut parts = Vec::new();
        if self.spec.epochs.is_some() {
            parts.push(format!("--epochs {}", self.epochs));
        }
        if self.spec.lr.is_some() {
            parts.push(format!("--lr {}", self.lr));
        }
        if self.spec.seed.is_some() {
            parts.push(format!("--seed {}", self.seed));
        }
        if self.spec.out.is_some() {
            parts.push(format!("--out {}", self.out.display()));
        }
        if self.quick {
            parts.push("--quick".into());
        }
        if self.verbose {
            parts.push("--verbose".into());
        } else if let Some(n) = self.every {
            parts.push(format!("--every {n}"));
        }
        parts.join(" ")
    }

    /// The example's own name and flags.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }
}

fn usage_error(spec: &Spec, message: &str) -> ! {
    // Both lines fit 100 columns for the longest example name.
    eprintln!("error: {message}\n{} (--help lists them)", usage(spec));
    std::process::exit(2);
}

/// Parses `args` (without the program name) against `spec`.
pub fn parse_from<I>(spec: Spec, args: I) -> Result<Parsed, String>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::Arg::{Long, Short};
    let mut a = Args {
        epochs: spec.epochs.unwrap_or(0),
        lr: spec.lr.unwrap_or(0.0),
        seed: 0,
        quiet: false,
        out: PathBuf::from("out"),
        quick: false,
        every: None,
        verbose: false,
        save_init: None,
        spec,
    };
    let mut epochs_given = false;
    let mut lr_given = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        let trains = spec.epochs.is_some();
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('q') | Long("quiet") => a.quiet = true,
            Long("quick") => a.quick = true,
            Long("epochs") if trains => {
                a.epochs = number(&mut parser, "--epochs", "a whole number (0 or more)")?;
                epochs_given = true;
            }
            Long("every") if trains => {
                let n: usize = number(&mut parser, "--every", "a whole number (1 or more)")?;
                if n == 0 {
                    return Err("--every 0: the epoch lines are every N-th for N ≥ 1".into());
                }
                a.every = Some(n);
            }
            Long("verbose") if trains => a.verbose = true,
            Long("lr") if spec.lr.is_some() => {
                a.lr = number(&mut parser, "--lr", "a positive number")?;
                if !(a.lr.is_finite() && a.lr > 0.0) {
                    return Err(format!("--lr {}: the learning rate must be positive", a.lr));
                }
                lr_given = true;
            }
            Long("seed") if spec.seed.is_some() => {
                a.seed = number(&mut parser, "--seed", "a whole number (0 or more)")?;
            }
            Long("out") if spec.out.is_some() => a.out = path(&mut parser, "--out")?,
            Long("save-init") if spec.save_init => {
                a.save_init = Some(path(&mut parser, "--save-init")?);
            }
            other => {
                let shown = match other {
                    Short(c) => format!("-{c}"),
                    Long(name) => format!("--{name}"),
                    lexopt::Arg::Value(v) => format!("'{}'", v.to_string_lossy()),
                };
                return Err(format!("{} does not take {shown}", spec.name));
            }
        }
    }
    if a.quick && (epochs_given || lr_given) {
        return Err(
            "--quick is CI's check mode with fixed settings; run without it to choose \
             --epochs or --lr"
                .into(),
        );
    }
    if a.quick {
        if let Some(default) = spec.epochs {
            a.epochs = quick_epochs(default);
        }
    }
    Ok(Parsed::Run(a))
}

/// The epochs of a `--quick` run: a quarter of the default, at least one.
/// `tests/examples_reference.rs` checks the accuracy floors at this count.
pub fn quick_epochs(default: usize) -> usize {
    (default / 4).max(1)
}

fn number<T: std::str::FromStr>(
    parser: &mut lexopt::Parser,
    flag: &str,
    what: &str,
) -> Result<T, String> {
    let value = parser.value().map_err(|e| e.to_string())?;
    let text = value.to_string_lossy();
    text.trim()
        .parse()
        .map_err(|_| format!("{flag} '{text}': expected {what}"))
}

fn path(parser: &mut lexopt::Parser, flag: &str) -> Result<PathBuf, String> {
    let value = parser.value().map_err(|e| e.to_string())?;
    if value.is_empty() {
        return Err(format!("{flag} needs a directory"));
    }
    Ok(PathBuf::from(value))
}

/// Makes sure `dir` is a directory that can be written to, creating it
/// (but not its parents) if it is missing.
pub fn prepare_out(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if dir.exists() {
        if !dir.is_dir() {
            return Err(format!("--out {shown}: exists and is not a directory"));
        }
    } else {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(format!(
                "--out {shown}: its parent {} is not an existing directory",
                parent.display()
            ));
        }
        std::fs::create_dir(dir).map_err(|e| format!("--out {shown}: cannot create it: {e}"))?;
    }
    // A read-only directory would otherwise fail only after the training.
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("--out {shown}: cannot write there: {e}"))
}

/// The one-line usage.
pub fn usage(spec: &Spec) -> String {
    format!(
        "usage: cargo run --release --example {} -- [FLAGS]",
        spec.name
    )
}

/// The `--help` text: what the example shows, then every flag it takes.
pub fn help(spec: &Spec) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(epochs) = spec.epochs {
        rows.push((
            "--epochs N".into(),
            format!("training epochs, 0 for none (default {epochs})"),
        ));
        rows.push((
            "--every N".into(),
            "print every N-th epoch line (default: about 15 lines)".into(),
        ));
        rows.push(("--verbose".into(), "print every epoch line".into()));
    }
    if let Some(lr) = spec.lr {
        rows.push(("--lr X".into(), format!("learning rate (default {lr})")));
    }
    if let Some(what) = spec.seed {
        rows.push(("--seed N".into(), format!("seed for {what} (default 0)")));
    }
    if let Some(what) = spec.out {
        rows.push((
            "--out DIR".into(),
            format!("where {what} go (default out; created if its parent exists)"),
        ));
    }
    let quiet = if spec.epochs.is_some() {
        "print only the results: no explanations, tables or epoch lines"
    } else {
        "print only the results: no explanations or tables"
    };
    rows.push(("-q, --quiet".into(), quiet.into()));
    let quick = if spec.epochs.is_some() {
        "CI's check mode: a quarter of the epochs, and the example exits 1 if a claim it \
         makes (the loss falls, accuracy floors, ...) fails; other runs only note it"
    } else {
        "CI's check mode: the example exits 1 if a claim it makes fails; other runs only \
         note it"
    };
    rows.push(("--quick".into(), quick.into()));
    if spec.save_init {
        rows.push((
            "--save-init DIR".into(),
            "write the initial weights for examples/reference/make_references.py, then stop".into(),
        ));
    }
    rows.push(("-h, --help".into(), "this help".into()));

    let mut out = format!("{}\n\n", spec.name);
    for line in super::notebook::wrap(spec.about, 80) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!("\n{}\n\nflags:\n", usage(spec)));
    let width = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    for (flag, text) in rows {
        let mut lines = super::notebook::wrap(&text, 78 - width).into_iter();
        out.push_str(&format!(
            "  {flag:<width$}  {}\n",
            lines.next().unwrap_or_default()
        ));
        for more in lines {
            out.push_str(&format!("  {:width$}  {more}\n", ""));
        }
    }
    out
}
