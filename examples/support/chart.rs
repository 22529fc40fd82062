//! Charts of a series against its index: drawn with characters in the
//! terminal, and written as a small hand-made SVG.
//!
//! Both use the same axes: ticks at 1-2-5 steps, and a logarithmic y-axis
//! when a loss spans more than two decades (a falling loss otherwise hugs
//! the x-axis after the first few epochs). Non-finite values (a run that
//! diverged) are left out of the axes and break the line.

use std::fmt::Write as _;

use super::notebook::{fix_negative_zero, Notebook};

/// The smallest 1, 2 or 5 times a power of ten that is at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// An axis: the range drawn and the values that get a labelled tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The value at the low end.
    pub lo: f64,
    /// The value at the high end.
    pub hi: f64,
    /// Tick positions, in increasing order, all within `lo..=hi`.
    pub ticks: Vec<f64>,
    /// Whether positions are spaced by log10 of the value.
    pub log: bool,
    /// The tick spacing (a decade count when `log`).
    pub step: f64,
}

impl Axis {
    /// A linear axis over `lo..=hi` widened to whole 1-2-5 steps, with
    /// about `target` ticks. A zero-width range is widened around its value.
    pub fn linear(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - pad, hi + pad)
        };
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let (a, b) = ((lo / step).floor(), (hi / step).ceil());
        let ticks = (0..=(b - a) as usize)
            .map(|k| (a + k as f64) * step)
            .collect();
        Axis {
            lo: a * step,
            hi: b * step,
            ticks,
            log: false,
            step,
        }
    }

    /// A log axis from the power of ten at or below `lo` to the one at or
    /// above `hi` (both positive), with a tick at every power of ten (or
    /// every second, fifth... when there are many).
    pub fn log10(lo: f64, hi: f64) -> Axis {
        let (a, b) = (
            lo.log10().floor(),
            hi.log10().ceil().max(lo.log10().floor() + 1.0),
        );
        let step = nice_step((b - a) / 6.0).max(1.0);
        let ticks = (0..=((b - a) / step) as usize)
            .map(|k| 10f64.powf(a + k as f64 * step))
            .collect();
        Axis {
            lo: 10f64.powf(a),
            hi: 10f64.powf(b),
            ticks,
            log: true,
            step,
        }
    }

    /// The y-axis for `values`: log when they are all positive and span more
    /// than two decades and `allow_log`, linear otherwise. `None` when no
    /// value is finite.
    pub fn for_values(values: &[f64], allow_log: bool) -> Option<Axis> {
        let (lo, hi) = finite_range(values)?;
        Some(if allow_log && lo > 0.0 && hi / lo > 100.0 {
            Axis::log10(lo, hi)
        } else {
            Axis::linear(lo, hi, 5)
        })
    }

    /// Where `v` falls, from 0 at `lo` to 1 at `hi`.
    pub fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The text of a tick: as many decimals as the step needs, plain
    /// decimals on a log axis from 0.0001 to 10000, `1e-6` style beyond.
    pub fn label(&self, v: f64) -> String {
        let text = if self.log {
            let e = v.log10().round() as i32;
            if (-4..=4).contains(&e) {
                format!("{:.*}", (-e).max(0) as usize, v)
            } else {
                format!("1e{e}")
            }
        } else {
            let decimals = (-self.step.log10().floor()).max(0.0) as usize;
            format!("{v:.decimals$}")
        };
        fix_negative_zero(&text)
    }
}

/// The smallest and largest finite values, if any.
pub fn finite_range(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The indices of `len` values shown in `cols` columns: evenly spaced, and
/// always the first and the last, so the chart starts and ends on real
/// values (averaging buckets would move both ends).
pub fn sample_indices(len: usize, cols: usize) -> Vec<usize> {
    let cols = cols.min(len);
    match cols {
        0 => Vec::new(),
        1 => vec![0],
        _ => (0..cols)
            .map(|c| ((c * (len - 1)) as f64 / (cols - 1) as f64).round() as usize)
            .collect(),
    }
}

/// A line chart of `values` (x from 1) in the terminal: at most `width`
/// columns and `height` rows, the y-axis labelled at its ends and middle.
pub fn ascii_chart(title: &str, values: &[f64], width: usize, height: usize) -> String {
    let mut out = format!("{title}\n");
    let columns = sample_indices(values.len(), width);
    let shown: Vec<f64> = columns.iter().map(|&i| values[i]).collect();
    let Some(axis) = Axis::for_values(&shown, true) else {
        return out + "(no finite values to draw)\n";
    };
    // The drawn range is that of the points drawn, not the tick-rounded
    // one: the top and bottom labels are the highest and lowest points.
    let (lo, hi) = finite_range(&shown).unwrap_or((0.0, 1.0));
    let view = Axis { lo, hi, ..axis };
    let height = height.max(2);
    // A flat series has one value to show: it goes on the middle row, the
    // only one labelled.
    let flat = hi <= lo;
    let mut grid = vec![vec![' '; columns.len()]; height];
    for (c, &i) in columns.iter().enumerate() {
        let v = values[i];
        if v.is_finite() {
            let f = if flat { 0.5 } else { view.fraction(v) };
            let r = ((1.0 - f) * (height - 1) as f64).round() as usize;
            grid[r.min(height - 1)][c] = '*';
        }
    }
    let label_at = |r: usize| -> String {
        let f = 1.0 - r as f64 / (height - 1) as f64;
        let v = if flat {
            lo
        } else if view.log {
            10f64.powf(lo.log10() + f * (hi.log10() - lo.log10()))
        } else {
            lo + f * (hi - lo)
        };
        significant(v, 4)
    };
    for (r, row) in grid.iter().enumerate() {
        let label = if (!flat && (r == 0 || r == height - 1)) || r == height / 2 {
            label_at(r)
        } else {
            String::new()
        };
        let line = format!("{label:>10} |{}", row.iter().collect::<String>());
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let scale = if view.log { "  (log scale)" } else { "" };
    let _ = writeln!(out, "{:>10} +{}{scale}", "", "-".repeat(columns.len()));
    let last = values.len().to_string();
    let _ = writeln!(
        out,
        "{:>12}1{:>w$}",
        "",
        if values.len() > 1 { last.as_str() } else { "" },
        w = columns.len().saturating_sub(1)
    );
    fix_negative_zero(&out)
}

/// `v` with `digits` significant digits, in `1.234e-5` form when very small
/// or large.
pub fn significant(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let text = if !(-3..6).contains(&magnitude) {
        format!("{v:.*e}", digits - 1)
    } else {
        format!("{v:.*}", (digits as i32 - 1 - magnitude).max(0) as usize)
    };
    fix_negative_zero(&text)
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// An SVG line chart of named series against x = `x_first + i·x_step`.
pub struct Chart<'a> {
    /// Printed above the plot.
    pub title: &'a str,
    /// Under the x-axis.
    pub x_label: &'a str,
    /// Beside the y-axis.
    pub y_label: &'a str,
    /// x of each series' first value.
    pub x_first: f64,
    /// x distance between consecutive values.
    pub x_step: f64,
    /// Names and values; the legend shows each name with its colour.
    pub series: &'a [(&'a str, &'a [f64])],
    /// Whether the y-axis may be logarithmic (for losses, not for
    /// probabilities or accuracies).
    pub allow_log_y: bool,
}

impl<'a> Chart<'a> {
    /// A chart of per-epoch values (x = 1, 2, ...), log y allowed.
    pub fn per_epoch(
        title: &'a str,
        y_label: &'a str,
        series: &'a [(&'a str, &'a [f64])],
    ) -> Chart<'a> {
        Chart {
            title,
            x_label: "epoch",
            y_label,
            x_first: 1.0,
            x_step: 1.0,
            series,
            allow_log_y: true,
        }
    }

    /// The SVG document.
    pub fn svg(&self) -> String {
        let all: Vec<f64> = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        let y =
            Axis::for_values(&all, self.allow_log_y).unwrap_or_else(|| Axis::linear(0.0, 1.0, 5));
        let n = self.series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        let x_last = self.x_first + n.saturating_sub(1) as f64 * self.x_step;
        let (x_lo, x_hi) = if n > 1 {
            (self.x_first, x_last)
        } else {
            (self.x_first - self.x_step, self.x_first + self.x_step)
        };
        let x_tick_step = nice_step((x_hi - x_lo) / 6.0).max(self.x_step);
        let mut x_ticks: Vec<f64> = ((x_lo / x_tick_step).ceil() as i64
            ..=(x_hi / x_tick_step + 1e-9).floor() as i64)
            .map(|k| k as f64 * x_tick_step)
            .collect();
        // Epochs start at 1, not at a multiple of the step: label the start
        // too when the first round tick is far from it.
        if n > 1
            && x_ticks
                .first()
                .is_none_or(|&t| t - x_lo > 0.3 * x_tick_step)
        {
            x_ticks.insert(0, x_lo);
        }
        let x_axis = Axis {
            lo: x_lo,
            hi: x_hi,
            ticks: x_ticks,
            log: false,
            step: x_tick_step,
        };

        // The legend sits right of the plot, so it never covers a curve.
        let longest = self
            .series
            .iter()
            .map(|(s, _)| s.chars().count())
            .max()
            .unwrap_or(0);
        let legend_width = 40.0 + 7.0 * longest as f64;
        let (w, h) = (560.0 + legend_width, 400.0);
        let (left, top, bottom) = (72.0, 40.0, 52.0);
        let right = w - legend_width;
        let px = |x: f64| left + (right - left) * x_axis.fraction(x);
        let py = |v: f64| (h - bottom) - (h - bottom - top) * y.fraction(v);

        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{:.1}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
            (left + right) / 2.0,
            escape(self.title)
        );
        for &t in &y.ticks {
            let _ = writeln!(
                svg,
                "<line x1=\"{left}\" x2=\"{right}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                py(t) + 4.0,
                y.label(t),
                yy = py(t)
            );
        }
        for &t in &x_axis.ticks {
            let _ = writeln!(
                svg,
                "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"black\"/>\
                 <text x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                h - bottom,
                h - bottom + 5.0,
                h - bottom + 18.0,
                x_axis.label(t),
                xx = px(t)
            );
        }
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{b}\" stroke=\"black\"/>\
             <line x1=\"{left}\" x2=\"{right}\" y1=\"{b}\" y2=\"{b}\" stroke=\"black\"/>",
            b = h - bottom
        );
        let y_title = if y.log {
            format!("{} (log scale)", self.y_label)
        } else {
            self.y_label.to_string()
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text x=\"16\" y=\"{mid}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {mid})\">{}</text>",
            (left + right) / 2.0,
            h - 12.0,
            escape(self.x_label),
            escape(&y_title),
            mid = (top + h - bottom) / 2.0
        );
        for (k, (name, values)) in self.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            // One polyline per run of finite values; a lone point is a dot.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, &v) in values.iter().enumerate() {
                let usable = v.is_finite() && (!y.log || v > 0.0);
                if usable {
                    let x = self.x_first + i as f64 * self.x_step;
                    if let Some(run) = runs.last_mut() {
                        run.push((px(x), py(v)));
                    }
                } else if runs.last().is_some_and(|r| !r.is_empty()) {
                    runs.push(Vec::new());
                }
            }
            for run in runs.iter().filter(|r| !r.is_empty()) {
                if run.len() == 1 {
                    let _ = writeln!(
                        svg,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                        run[0].0, run[0].1
                    );
                } else {
                    let points: Vec<String> =
                        run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                    let _ = writeln!(
                        svg,
                        "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                        points.join(" ")
                    );
                }
            }
            let ly = top + 10.0 + 20.0 * k as f64;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"18\" height=\"4\" fill=\"{color}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                right + 16.0,
                ly - 2.0,
                right + 40.0,
                ly + 4.0,
                escape(name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shows the first curve in the terminal and writes all of them as an SVG
/// file in `--out`; says where. With no values (`--epochs 0`) it says that
/// there is nothing to draw instead.
pub fn report_curves(nb: &Notebook, file: &str, title: &str, curves: &[(&str, &[f64])]) {
    // A run with no epochs has an empty curve; the others are still drawn.
    let curves: Vec<(&str, &[f64])> = curves
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let Some(&(first_name, first)) = curves.first() else {
        nb.result(&format!("{title}: no curve to draw (no training epochs)"));
        return;
    };
    let heading = if curves.len() > 1 {
        format!("{title}: {first_name} (per epoch)")
    } else {
        format!("{title} (per epoch)")
    };
    nb.block(&ascii_chart(&heading, first, 60, 12));
    let what = if curves.len() > 1 {
        "loss curves"
    } else {
        "loss curve"
    };
    nb.save(file, what, &Chart::per_epoch(title, "loss", &curves).svg());
}
