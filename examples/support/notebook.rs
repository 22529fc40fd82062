//! The notebook a reader sees: a title, numbered sections, wrapped prose,
//! tables and result lines, and where files were written.
//!
//! Everything printed goes through [`fix_negative_zero`], so no table or
//! sentence shows `-0.000` for a number that rounds to zero.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::flags::Args;

/// Prose is wrapped here; tables and result lines must fit in [`MAX_WIDTH`].
pub const PROSE_WIDTH: usize = 88;
/// The widest line a notebook prints.
pub const MAX_WIDTH: usize = 100;

/// Prints the notebook: sections, prose and tables, unless quiet.
pub struct Notebook {
    quiet: bool,
    section: usize,
    // scores_to_probabilities writes no files.
    #[allow(dead_code)]
    out: PathBuf,
}

impl Notebook {
    /// A notebook with a title line and the settings of this run.
    pub fn new(title: &str, args: &Args) -> Notebook {
        if !args.quiet {
            println!("{title}\n{}", "=".repeat(title.chars().count()));
            let settings = args.settings();
            let name = &args.spec().name;
            let line = if settings.is_empty() {
                format!("(flags: cargo run --release --example {name} -- --help)")
            } else {
                format!("settings: {settings}   (--help lists the flags)")
            };
            println!("{}\n", fix_negative_zero(&line));
        }
        Notebook {
            quiet: args.quiet,
            section: 0,
            out: args.out.clone(),
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

    /// A paragraph of explanation, wrapped at [`PROSE_WIDTH`] columns.
    pub fn say(&self, text: &str) {
        if !self.quiet {
            for line in wrap(&fix_negative_zero(text), PROSE_WIDTH) {
                println!("{line}");
            }
            println!();
        }
    }

    /// A table with a header row; numeric columns are right-aligned.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        if !self.quiet {
            println!("{}", fix_negative_zero(&format_table(headers, rows)));
        }
    }

    /// Preformatted text (a drawing, a chart), printed as it is unless quiet.
    // scores_to_probabilities prints only prose, tables and results.
    #[allow(dead_code)]
    pub fn block(&self, text: &str) {
        if !self.quiet {
            print!("{}", fix_negative_zero(text));
            if !text.ends_with('\n') {
                println!();
            }
        }
    }

    /// A result line, printed even when quiet; wrapped at [`MAX_WIDTH`]
    /// with the continuation indented.
    pub fn result(&self, text: &str) {
        for paragraph in fix_negative_zero(text).lines() {
            for (k, line) in wrap(paragraph, MAX_WIDTH - 2).iter().enumerate() {
                let indent = if k == 0 { "" } else { "  " };
                println!("{indent}{line}");
            }
        }
    }

    /// Writes `contents` to `name` in the `--out` directory (which
    /// `Args::parse` made sure exists) and says where, as a result line.
    /// A failure is reported on stderr and the notebook goes on.
    // scores_to_probabilities writes no files.
    #[allow(dead_code)]
    pub fn save(&self, name: &str, what: &str, contents: &str) -> Option<PathBuf> {
        let path = self.out.join(name);
        match std::fs::write(&path, contents) {
            Ok(()) => {
                self.result(&format!("{what} written to {}", path.display()));
                Some(path)
            }
            Err(e) => {
                eprintln!("error: could not write {}: {e}", path.display());
                None
            }
        }
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (a
/// single word longer than that gets a line of its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A plain-text table: headers right-aligned over numeric columns, a rule,
/// then the rows (numbers right-aligned, text left-aligned).
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

/// Drops the minus sign of every number in `text` that is written as zero
/// (`-0`, `-0.000`, `-0.0e0`): formatting a tiny negative value, or −0.0
/// itself, with few decimals would otherwise print a negative zero.
/// A `-` after a letter, digit, `.` or `-` is not a sign and is left alone.
pub fn fix_negative_zero(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word =
            i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '.' || chars[i - 1] == '-');
        if c == '-' && !after_word {
            if let Some(len) = zero_literal_len(&chars[i + 1..]) {
                out.extend(&chars[i + 1..i + 1 + len]);
                i += 1 + len;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The length of the number at the start of `s` if it is a zero (digits
/// all 0, an optional fraction of 0s, an optional exponent), else `None`.
fn zero_literal_len(s: &[char]) -> Option<usize> {
    let mut i = 0;
    let digits = |i: &mut usize, zeros_only: bool| -> Option<usize> {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            if zeros_only && s[*i] != '0' {
                return None;
            }
            *i += 1;
        }
        Some(*i - start)
    };
    if digits(&mut i, true)? == 0 {
        return None;
    }
    if i < s.len() && s[i] == '.' {
        i += 1;
        digits(&mut i, true)?;
    }
    if i < s.len() && s[i] == 'e' {
        let mut j = i + 1;
        if j < s.len() && (s[j] == '-' || s[j] == '+') {
            j += 1;
        }
        if digits(&mut j, false)? > 0 {
            i = j;
        }
    }
    // `-0.5` and `-01` are not zeros; nor is `-0.0.1` a number at all.
    if i < s.len() && (s[i].is_ascii_digit() || s[i] == '.') {
        return None;
    }
    Some(i)
}
