//! What every example notebook shares: command-line flags, numbered
//! sections, tables, the `epoch=.. loss=.. acc=..` log line, a progress bar,
//! a loss chart drawn in the terminal and the same chart written as SVG.
//!
//! Each example includes this file with `mod support;`; it is not part of
//! the library's API.

#![allow(dead_code)]

pub mod fit;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Flags shared by all examples.
#[derive(Clone, Debug)]
pub struct Args {
    /// Training epochs (or steps), when the example trains.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seed for every random number drawn.
    pub seed: u64,
    /// Print only the results (no explanations, no per-epoch lines).
    pub quiet: bool,
    /// Where plots and other files are written.
    pub out: PathBuf,
    /// A shorter run for CI: fewer epochs, same story.
    pub quick: bool,
    /// `--save-init DIR`: write the initial weights of the models there (as
    /// safetensors), for `examples/reference/make_references.py`.
    pub save_init: Option<PathBuf>,
}

impl Args {
    /// Parses `std::env::args()`, with the example's own defaults. Exits with
    /// a usage message on `--help` or a bad flag.
    pub fn parse(name: &str, default_epochs: usize, default_lr: f64) -> Args {
        let mut args = Args {
            epochs: default_epochs,
            lr: default_lr,
            seed: 0,
            quiet: false,
            out: PathBuf::from("out"),
            quick: false,
            save_init: None,
        };
        let usage = format!(
            "usage: cargo run --release --example {name} -- [--epochs N] [--lr X] [--seed N] [--quiet] [--out DIR] [--quick] [--save-init DIR]\n\
             defaults: --epochs {default_epochs} --lr {default_lr} --seed 0 --out out"
        );
        let mut epochs_given = false;
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = |what: &str| -> String {
                it.next()
                    .unwrap_or_else(|| fail(&format!("{flag} needs {what}"), &usage))
            };
            match flag.as_str() {
                "--epochs" => {
                    args.epochs = parse_num(&value("a number"), &flag, &usage);
                    epochs_given = true;
                }
                "--lr" => args.lr = parse_num(&value("a number"), &flag, &usage),
                "--seed" => args.seed = parse_num(&value("a number"), &flag, &usage),
                "--out" => args.out = PathBuf::from(value("a directory")),
                "--quiet" => args.quiet = true,
                "--quick" => args.quick = true,
                "--save-init" => args.save_init = Some(PathBuf::from(value("a directory"))),
                "--help" | "-h" => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                other => fail(&format!("unknown flag {other}"), &usage),
            }
        }
        if args.quick && !epochs_given {
            args.epochs = (default_epochs / 4).max(1);
        }
        if !(args.lr.is_finite() && args.lr > 0.0) {
            fail(
                &format!("--lr must be a positive number, got {}", args.lr),
                &usage,
            );
        }
        args
    }
}

fn parse_num<T: std::str::FromStr>(text: &str, flag: &str, usage: &str) -> T {
    text.parse()
        .unwrap_or_else(|_| fail(&format!("{flag}: '{text}' is not a valid number"), usage))
}

fn fail(message: &str, usage: &str) -> ! {
    eprintln!("error: {message}\n{usage}");
    std::process::exit(2);
}

/// Prints the notebook: sections, prose and tables, unless quiet.
pub struct Notebook {
    quiet: bool,
    section: usize,
}

impl Notebook {
    /// A notebook with a title line.
    pub fn new(title: &str, args: &Args) -> Notebook {
        if !args.quiet {
            println!("{title}\n{}\n", "=".repeat(title.chars().count()));
        }
        Notebook {
            quiet: args.quiet,
            section: 0,
        }
    }

    /// Starts the next numbered section.
    pub fn section(&mut self, heading: &str) {
        self.section += 1;
        if !self.quiet {
            let h = format!("{}. {heading}", self.section);
            println!("\n{h}\n{}", "-".repeat(h.chars().count()));
        }
    }

    /// A paragraph of explanation, wrapped at 88 columns.
    pub fn say(&self, text: &str) {
        if self.quiet {
            return;
        }
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 88 {
                println!("{line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            println!("{line}");
        }
        println!();
    }

    /// A table with a header row; columns are right-aligned when numeric.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        if self.quiet {
            return;
        }
        print!("{}", format_table(headers, rows));
        println!();
    }

    /// Prints a line even in quiet mode (results).
    pub fn result(&self, text: &str) {
        println!("{text}");
    }

    /// True when explanations are suppressed.
    pub fn quiet(&self) -> bool {
        self.quiet
    }
}

/// A plain-text table.
pub fn format_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(cols) {
            widths[c] = widths[c].max(cell.chars().count());
        }
    }
    let numeric = |s: &str| s.trim().parse::<f64>().is_ok();
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join("  ").trim_end().to_string();
    let head: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(c, h)| format!("{h:>w$}", w = widths[c]))
        .collect();
    let _ = writeln!(out, "{}", line(head));
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    let _ = writeln!(out, "{}", line(rule));
    for row in rows {
        let cells: Vec<String> = (0..cols)
            .map(|c| {
                let cell = row.get(c).map(String::as_str).unwrap_or("");
                if numeric(cell) {
                    format!("{cell:>w$}", w = widths[c])
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line(cells));
    }
    out
}

/// The machine-readable training line: `epoch=<n> loss=<value> acc=<value>`.
pub fn epoch_line(epoch: usize, loss: f64, acc: Option<f64>) -> String {
    match acc {
        Some(a) => format!("epoch={epoch} loss={loss:.6} acc={a:.4}"),
        None => format!("epoch={epoch} loss={loss:.6}"),
    }
}

/// A progress bar on stderr, drawn only when stdout is a terminal and the
/// run is not quiet.
pub struct Progress {
    total: usize,
    done: usize,
    enabled: bool,
    label: String,
}

impl Progress {
    /// A bar for `total` steps.
    pub fn new(label: &str, total: usize, args: &Args) -> Progress {
        Progress {
            total,
            done: 0,
            enabled: !args.quiet && std::io::stdout().is_terminal(),
            label: label.to_string(),
        }
    }

    /// Prints `text` as a line on stdout without tearing the bar: the bar is
    /// cleared first and redrawn after.
    pub fn line(&mut self, text: &str) {
        if self.enabled {
            eprint!("\r{}\r", " ".repeat(self.label.len() + 50));
            let _ = std::io::stderr().flush();
        }
        println!("{text}");
        if self.enabled && self.done < self.total {
            self.draw();
        }
    }

    /// Advances one step and redraws.
    pub fn tick(&mut self) {
        self.done += 1;
        if self.enabled {
            self.draw();
        }
    }

    fn draw(&self) {
        let width = 30;
        let filled = width * self.done / self.total.max(1);
        eprint!(
            "\r{} [{}{}] {}/{}",
            self.label,
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.done,
            self.total
        );
        if self.done >= self.total {
            eprint!("\r{}\r", " ".repeat(self.label.len() + width + 20));
        }
        let _ = std::io::stderr().flush();
    }
}

/// The per-epoch callback of a training loop: prints the
/// `epoch=<n> loss=<value> acc=<value>` line (unless quiet) above a progress
/// bar labelled `label`.
pub fn epoch_logger<'a>(label: &str, args: &'a Args) -> impl FnMut(usize, f64, f64) + 'a {
    let mut bar = Progress::new(label, args.epochs, args);
    move |epoch, loss, acc| {
        if !args.quiet {
            bar.line(&epoch_line(epoch, loss, Some(acc)));
        }
        bar.tick();
    }
}

/// A line chart of `values` in the terminal, `height` rows tall.
pub fn ascii_chart(title: &str, values: &[f64], width: usize, height: usize) -> String {
    let mut out = format!("{title}\n");
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return out + "(no data)\n";
    }
    let lo = finite.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let cols = width.min(values.len()).max(1);
    let mut grid = vec![vec![' '; cols]; height];
    for (c, column) in grid_columns(values, cols).into_iter().enumerate() {
        if let Some(v) = column {
            let r = ((hi - v) / span * (height - 1) as f64).round() as usize;
            grid[r.min(height - 1)][c] = '*';
        }
    }
    for (r, row) in grid.iter().enumerate() {
        let label = hi - span * r as f64 / (height - 1).max(1) as f64;
        let _ = writeln!(out, "{label:>10.4} |{}", row.iter().collect::<String>());
    }
    let _ = writeln!(out, "{:>10} +{}", "", "-".repeat(cols));
    let _ = writeln!(
        out,
        "{:>12}1{:>w$}",
        "",
        values.len(),
        w = cols.saturating_sub(1)
    );
    out
}

/// Averages `values` into `cols` buckets.
fn grid_columns(values: &[f64], cols: usize) -> Vec<Option<f64>> {
    (0..cols)
        .map(|c| {
            let a = c * values.len() / cols;
            let b = ((c + 1) * values.len() / cols).max(a + 1);
            let bucket: Vec<f64> = values[a..b]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            (!bucket.is_empty()).then(|| bucket.iter().sum::<f64>() / bucket.len() as f64)
        })
        .collect()
}

/// An SVG line chart of one or more named series against their index
/// (starting at 1).
pub fn svg_chart(title: &str, x_label: &str, y_label: &str, series: &[(&str, &[f64])]) -> String {
    let (w, h) = (640.0, 400.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0);
    let all: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let lo = all.iter().cloned().fold(f64::INFINITY, f64::min).min(0.0);
    let hi = all
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(lo + 1e-12);
    let n = series
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let x = |i: usize| left + (w - left - right) * i as f64 / (n - 1) as f64;
    let y = |v: f64| top + (h - top - bottom) * (hi - v) / (hi - lo);
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        w / 2.0,
        escape(title)
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.3}</text>",
            w - right,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{}\" stroke=\"black\"/><line x1=\"{left}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{}</text>",
        (left + w - right) / 2.0,
        h - 12.0,
        escape(x_label),
        h / 2.0,
        h / 2.0,
        escape(y_label)
    );
    let _ = writeln!(svg, "<text x=\"{left}\" y=\"{}\">1</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{n}</text>", h - bottom + 16.0, w - right, h - bottom + 16.0);
    for (k, (name, values)) in series.iter().enumerate() {
        let color = colors[k % colors.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\" text-anchor=\"end\">{}</text>",
            w - right - 4.0,
            top + 16.0 * (k + 1) as f64,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `contents` to `dir/name`, creating `dir`; returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    std::fs::write(&path, contents)?;
    Ok(path)
}

/// Shows the loss curve in the terminal and writes it as SVG; prints where.
pub fn report_curve(nb: &Notebook, args: &Args, file: &str, title: &str, losses: &[f64]) {
    if !nb.quiet() {
        print!(
            "{}",
            ascii_chart(&format!("{title} (per epoch)"), losses, 60, 12)
        );
    }
    let svg = svg_chart(title, "epoch", "loss", &[("train loss", losses)]);
    match write_file(&args.out, file, &svg) {
        Ok(path) => nb.result(&format!("loss curve written to {}", path.display())),
        Err(e) => eprintln!("could not write the plot: {e}"),
    }
}

/// Like [`report_curve`] with several named curves in the SVG (the terminal
/// chart shows the first).
pub fn report_curves(
    nb: &Notebook,
    args: &Args,
    file: &str,
    title: &str,
    curves: &[(&str, &[f64])],
) {
    if !nb.quiet() {
        print!(
            "{}",
            ascii_chart(
                &format!("{title}: {} (per epoch)", curves[0].0),
                curves[0].1,
                60,
                12
            )
        );
    }
    let svg = svg_chart(title, "epoch", "loss", curves);
    match write_file(&args.out, file, &svg) {
        Ok(path) => nb.result(&format!("loss curves written to {}", path.display())),
        Err(e) => eprintln!("could not write the plot: {e}"),
    }
}

/// Exits with an error if the last loss is not below `fraction` of the first;
/// CI relies on this to catch an example that stopped learning.
pub fn assert_loss_fell(losses: &[f64], fraction: f64) {
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    if !(last.is_finite() && last < first * fraction) {
        eprintln!("error: the loss did not fall enough: first {first:.6}, last {last:.6} (wanted < {fraction} × first)");
        std::process::exit(1);
    }
}

/// Exits with an error if `accuracy` is below `floor`.
pub fn assert_accuracy_at_least(what: &str, accuracy: f64, floor: f64) {
    if accuracy < floor {
        eprintln!("error: {what} accuracy {accuracy:.4} is below the floor {floor:.4}");
        std::process::exit(1);
    }
}
