//! The example notebooks' support code (`examples/support/`), tested where
//! `cargo test` reaches it: flag parsing, `--out` checks, epoch-line
//! selection, chart axes and sampling, negative zero, plurals and articles.
//!
//! Running the example binaries themselves (exit codes of `--help`, a bad
//! flag, `--epochs 0`) is a step of `.ci/examples`, which builds them.

// This test calls the support code's pure functions; the rest of it (and
// all of `fit`) is exercised by running the examples.
#[allow(dead_code)]
#[path = "../examples/support/mod.rs"]
mod support;

use std::path::PathBuf;

use support::chart::{ascii_chart, nice_step, sample_indices, significant, Axis, Chart};
use support::epochs::{default_every, epoch_line, epoch_line_with, shows_epoch};
use support::flags::{help, parse_from, prepare_out, Args, Parsed, Spec};
use support::notebook::{fix_negative_zero, format_table, wrap};
use support::prose::{a_or_an, change, count, count_as, ordinal};

const TRAINS: Spec = Spec {
    epochs: Some(100),
    lr: Some(0.5),
    seed: Some("the weights"),
    out: Some("charts"),
    save_init: false,
    ..Spec::new("trains", "An example that trains.")
};

const PLAIN: Spec = Spec::new("plain", "An example with no training, randomness or files.");

fn parse(spec: Spec, args: &[&str]) -> Result<Args, String> {
    match parse_from(spec, args.iter().copied())? {
        Parsed::Run(a) => Ok(a),
        Parsed::Help => Err("help".into()),
    }
}

#[test]
fn flags_take_values_with_a_space_or_an_equals_sign() {
    let a = parse(TRAINS, &["--epochs=5", "--lr", "0.01", "-q", "--seed=7"]).unwrap();
    assert_eq!((a.epochs, a.lr, a.seed, a.quiet), (5, 0.01, 7, true));
    let b = parse(TRAINS, &["--epochs", "5", "--quiet", "--out", "plots"]).unwrap();
    assert_eq!(
        (b.epochs, b.quiet, b.out),
        (5, true, PathBuf::from("plots"))
    );
    let d = parse(TRAINS, &[]).unwrap();
    assert_eq!((d.epochs, d.lr, d.seed, d.quick), (100, 0.5, 0, false));
    assert_eq!(parse(TRAINS, &["--epochs", "0"]).unwrap().epochs, 0);
}

#[test]
fn bad_values_name_the_flag_and_the_value() {
    for (args, needle) in [
        (&["--epochs=-1"][..], "--epochs '-1'"),
        (&["--epochs", "abc"][..], "--epochs 'abc'"),
        (&["--lr", "0"][..], "must be positive"),
        (&["--lr=-2"][..], "must be positive"),
        (&["--lr", "nan"][..], "must be positive"),
        (&["--seed", "x"][..], "--seed 'x'"),
        (&["--every", "0"][..], "--every 0"),
        (&["--epochs"][..], "missing argument"),
        (&["--quiet=yes"][..], "--quiet"),
    ] {
        let err = parse(TRAINS, args).unwrap_err();
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn a_flag_the_example_does_not_take_is_an_error() {
    let err = parse(PLAIN, &["--epochs", "3"]).unwrap_err();
    assert_eq!(err, "plain does not take --epochs");
    assert!(parse(PLAIN, &["--lr=1"]).is_err());
    assert!(parse(PLAIN, &["--out", "x"]).is_err());
    assert!(parse(PLAIN, &["--verbose"]).is_err());
    let err = parse(TRAINS, &["--bogus"]).unwrap_err();
    assert_eq!(err, "trains does not take --bogus");
    assert!(parse(TRAINS, &["stray"]).unwrap_err().contains("'stray'"));
    assert!(parse(TRAINS, &["--save-init", "d"]).is_err());
}

#[test]
fn quick_is_a_quarter_of_the_epochs_and_does_not_mix_with_chosen_settings() {
    let a = parse(TRAINS, &["--quick", "--seed", "3"]).unwrap();
    assert_eq!((a.epochs, a.quick, a.seed), (25, true, 3));
    assert!(parse(TRAINS, &["--quick", "--epochs", "10"]).is_err());
    assert!(parse(TRAINS, &["--lr", "0.1", "--quick"]).is_err());
    assert!(parse(PLAIN, &["--quick"]).unwrap().quick);
}

#[test]
fn help_lists_exactly_the_flags_the_example_takes() {
    assert!(matches!(parse_from(PLAIN, ["-h"]).unwrap(), Parsed::Help));
    assert!(matches!(
        parse_from(TRAINS, ["--epochs", "3", "--help"]).unwrap(),
        Parsed::Help
    ));
    let trains = help(&TRAINS);
    for flag in [
        "--epochs N",
        "--every N",
        "--verbose",
        "--lr X",
        "--seed N",
        "--out DIR",
    ] {
        assert!(trains.contains(flag), "{flag} missing:\n{trains}");
    }
    assert!(trains.contains("default 100") && trains.contains("default 0.5"));
    assert!(trains.starts_with("trains\n\nAn example that trains."));
    let plain = help(&PLAIN);
    for flag in [
        "--epochs",
        "--lr",
        "--seed",
        "--out",
        "--every",
        "--save-init",
    ] {
        assert!(!plain.contains(flag), "{flag} advertised:\n{plain}");
    }
    assert!(plain.contains("-q, --quiet") && plain.contains("--quick"));
    for line in trains.lines().chain(plain.lines()) {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
}

#[test]
fn settings_show_the_declared_flags_of_the_run() {
    let a = parse(TRAINS, &["--epochs=7", "--every", "2"]).unwrap();
    assert_eq!(
        a.settings(),
        "--epochs 7 --lr 0.5 --seed 0 --out out --every 2"
    );
    assert_eq!(parse(PLAIN, &["-q"]).unwrap().settings(), "");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-ex-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    dir
}

#[test]
fn out_is_created_only_under_an_existing_parent() {
    let base = scratch("out");
    let fresh = base.join("plots");
    prepare_out(&fresh).unwrap();
    assert!(fresh.is_dir());
    prepare_out(&fresh).unwrap(); // existing: fine

    let deep = base.join("missing").join("plots");
    let err = prepare_out(&deep).unwrap_err();
    assert!(err.contains(&deep.display().to_string()), "{err}");
    assert!(err.contains("parent"), "{err}");
    assert!(!base.join("missing").exists(), "no parent may be created");

    let file = base.join("a_file");
    std::fs::write(&file, "x").unwrap();
    let err = prepare_out(&file).unwrap_err();
    assert!(
        err.contains("not a directory") && err.contains("a_file"),
        "{err}"
    );
    // The write test leaves nothing behind.
    assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 0);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn default_epoch_lines_are_a_readable_subset_with_both_ends() {
    for epochs in [
        1, 2, 20, 21, 25, 31, 49, 50, 99, 100, 120, 200, 400, 1000, 12345,
    ] {
        let every = default_every(epochs);
        let shown: Vec<usize> = (1..=epochs)
            .filter(|&e| shows_epoch(e, epochs, every))
            .collect();
        assert_eq!(shown.first(), Some(&1), "{epochs}");
        assert_eq!(shown.last(), Some(&epochs), "{epochs}");
        if epochs <= 20 {
            assert_eq!(shown.len(), epochs);
        } else {
            assert!((8..=17).contains(&shown.len()), "{epochs}: {}", shown.len());
        }
        // 1-2-5 steps read well: 10, 20, 30... not 7, 14, 21...
        let lead = every / 10usize.pow(every.ilog10());
        assert!([1, 2, 5].contains(&lead), "{epochs}: every {every}");
    }
    assert_eq!(default_every(100), 10);
    assert_eq!(default_every(25), 2);
    // --verbose is every 1; --every 7 shows 1, 7, 14, ..., and the last.
    assert!((1..=9).all(|e| shows_epoch(e, 9, 1)));
    let every7: Vec<usize> = (1..=30).filter(|&e| shows_epoch(e, 30, 7)).collect();
    assert_eq!(every7, [1, 7, 14, 21, 28, 30]);
}

#[test]
fn epoch_lines_keep_their_machine_readable_form() {
    assert_eq!(
        epoch_line(3, 0.25, Some(0.5)),
        "epoch=3 loss=0.250000 acc=0.5000"
    );
    assert_eq!(epoch_line(1, -1e-9, None), "epoch=1 loss=0.000000");
    // A diverging loss stays one short line, in a form that still parses.
    let huge = epoch_line(200, 3.430875e67, None);
    assert_eq!(huge, "epoch=200 loss=3.430875e67");
    assert_eq!(
        huge["epoch=200 loss=".len()..].parse::<f64>(),
        Ok(3.430875e67)
    );
    assert_eq!(epoch_line(9, f64::NAN, None), "epoch=9 loss=NaN");
    // Extra fields go at the end, as the caller formatted them.
    assert_eq!(
        epoch_line_with(2, 0.5, None, &[("test_mse", "-0.000".into())]),
        "epoch=2 loss=0.500000 test_mse=0.000"
    );
}

#[test]
fn negative_zero_loses_its_sign_and_nothing_else_does() {
    for (text, want) in [
        ("-0.000000", "0.000000"),
        ("x = -0.000, y = -0.001", "x = 0.000, y = -0.001"),
        ("(-0.0000, +0.0000)", "(0.0000, +0.0000)"),
        ("-0", "0"),
        ("-0.0e0 and -0.00e-5", "0.0e0 and 0.00e-5"),
        ("-0.5 -01 -10 -0.0001", "-0.5 -01 -10 -0.0001"),
        ("1e-0 x-0 --0 ---", "1e-0 x-0 --0 ---"),
        ("σ(−0.0)", "σ(−0.0)"),
    ] {
        assert_eq!(fix_negative_zero(text), want, "{text}");
    }
    assert_eq!(fix_negative_zero(&format!("{:.3}", -0.0f64)), "0.000");
    assert_eq!(fix_negative_zero(&format!("{:+.3}", -1e-7)), "0.000");
}

#[test]
fn plurals_articles_and_ordinals() {
    assert_eq!(count(0, "mistake"), "0 mistakes");
    assert_eq!(count(1, "mistake"), "1 mistake");
    assert_eq!(count(2, "epoch"), "2 epochs");
    assert_eq!(count_as(1, "time", "times"), "1 time");
    for (word, article) in [
        ("8", "an"),
        ("7", "a"),
        ("11", "an"),
        ("18", "an"),
        ("80", "an"),
        ("100", "a"),
        ("110", "a"),
        ("11000", "an"),
        ("800", "an"),
        ("1", "a"),
        ("iris", "an"),
        ("setosa", "a"),
    ] {
        assert_eq!(a_or_an(word), article, "{word}");
    }
    let ordinals: Vec<String> = [1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 102, 111]
        .iter()
        .map(|&n| ordinal(n))
        .collect();
    assert_eq!(
        ordinals,
        [
            "1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "22nd", "102nd",
            "111th"
        ]
    );
}

#[test]
fn a_change_is_described_for_any_length_and_a_divergence() {
    assert_eq!(change(&[], 2), None);
    assert_eq!(change(&[0.5], 2).unwrap(), "was 0.50 (a single epoch)");
    assert_eq!(
        change(&[0.9, 0.5, 0.1], 2).unwrap(),
        "fell from 0.90 to 0.10"
    );
    assert_eq!(change(&[0.1, 0.9], 2).unwrap(), "rose from 0.10 to 0.90");
    assert_eq!(change(&[0.5, 0.501], 2).unwrap(), "stayed at 0.50");
    assert!(change(&[0.7, f64::NAN], 2).unwrap().contains("diverged"));
}

#[test]
fn wrapping_and_tables() {
    let lines = wrap("a bb ccc dddd eeeee", 8);
    assert_eq!(lines, ["a bb ccc", "dddd", "eeeee"]);
    assert!(wrap("", 10).is_empty());
    let t = format_table(&["name", "x"], &[vec!["a".into(), "1.5".into()]]);
    assert_eq!(t, "name    x\n----  ---\na     1.5\n");
}

#[test]
fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
    for (raw, want) in [
        (0.7, 1.0),
        (1.0, 1.0),
        (1.2, 2.0),
        (3.0, 5.0),
        (7.0, 10.0),
        (0.013, 0.02),
        (420.0, 500.0),
    ] {
        assert!(
            (nice_step(raw) - want).abs() < 1e-12,
            "{raw}: {}",
            nice_step(raw)
        );
    }
}

#[test]
fn a_linear_axis_covers_the_data_with_round_ticks() {
    let a = Axis::linear(0.06, 0.91, 5);
    assert_eq!(a.step, 0.2);
    assert!(a.lo <= 0.06 && a.hi >= 0.91);
    let labels: Vec<String> = a.ticks.iter().map(|&t| a.label(t)).collect();
    assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    // A flat series still gets a range, and a negative-zero tick prints as 0.
    let flat = Axis::linear(2.0, 2.0, 5);
    assert!(flat.lo < 2.0 && flat.hi > 2.0);
    let around_zero = Axis::linear(-1.0, 1.0, 4);
    let labels: Vec<String> = around_zero
        .ticks
        .iter()
        .map(|&t| around_zero.label(t))
        .collect();
    assert_eq!(labels, ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
}

#[test]
fn the_y_axis_goes_logarithmic_only_for_values_spanning_decades() {
    let loss = [2.3, 0.9, 0.1, 0.02, 0.006];
    let log = Axis::for_values(&loss, true).unwrap();
    assert!(log.log);
    assert_eq!((log.lo, log.hi), (0.001, 10.0));
    let labels: Vec<String> = log.ticks.iter().map(|&t| log.label(t)).collect();
    assert_eq!(labels, ["0.001", "0.01", "0.1", "1", "10"]);
    assert!(!Axis::for_values(&loss, false).unwrap().log);
    assert!(!Axis::for_values(&[0.9, 0.5, 0.2], true).unwrap().log);
    assert!(!Axis::for_values(&[0.0, 1.0, 0.001], true).unwrap().log);
    assert!(Axis::for_values(&[f64::NAN], true).is_none());
    let wide = Axis::for_values(&[1e-12, 1e3], true).unwrap();
    assert!(wide.ticks.len() <= 8 && wide.label(1e-12) == "1e-12");
}

#[test]
fn terminal_charts_start_and_end_on_the_real_values() {
    assert_eq!(sample_indices(200, 60).first(), Some(&0));
    assert_eq!(sample_indices(200, 60).last(), Some(&199));
    assert_eq!(sample_indices(200, 60).len(), 60);
    assert_eq!(sample_indices(3, 60), [0, 1, 2]);
    assert_eq!(sample_indices(1, 60), [0]);
    assert!(sample_indices(0, 60).is_empty());

    // A spike in the first pair would be averaged away by bucketing; the
    // first column must be the first value, on the top row.
    let mut values: Vec<f64> = (0..120).map(|i| 1.0 + 0.001 * i as f64).collect();
    values[0] = 3.0;
    let chart = ascii_chart("t", &values, 60, 10);
    let rows: Vec<&str> = chart.lines().collect();
    assert!(rows[1].starts_with("     3.000 |*"), "{chart}");
    // The last column (the 60th, after the 12 characters of label and axis)
    // is the last value, 1.119: on chart row round(9 · (3 − 1.119) / (3 − 1.001))
    // = 8, i.e. rows[9], and on no other row.
    let ends_at_last_column: Vec<usize> = (1..=10)
        .filter(|&r| rows[r].chars().count() == 12 + 60)
        .collect();
    assert_eq!(ends_at_last_column, [9], "{chart}");
    assert!(chart.lines().all(|l| l.chars().count() <= 100));
    assert!(ascii_chart("t", &[], 60, 10).contains("no finite values"));
    assert!(ascii_chart("t", &[0.5], 60, 10).contains('*'));
    assert!(ascii_chart("t", &[1.0, f64::NAN, f64::INFINITY], 60, 10).contains('*'));
}

#[test]
fn significant_digits_and_no_negative_zero() {
    assert_eq!(significant(0.912372, 4), "0.9124");
    assert_eq!(significant(0.0607121, 4), "0.06071");
    assert_eq!(significant(1234.5, 4), "1234");
    assert_eq!(significant(2.5e-7, 4), "2.500e-7");
    assert_eq!(significant(-1e-20, 2), "-1.0e-20");
}

#[test]
fn svg_charts_have_labelled_ticks_a_legend_beside_the_plot_and_log_losses() {
    let mlp = [2.3, 1.0, 0.3, 0.05, 0.006];
    let base = [2.3, 1.5, 0.9, 0.5, 0.3];
    let series: [(&str, &[f64]); 2] = [("MLP", &mlp), ("softmax", &base)];
    let svg = Chart::per_epoch("digits", "loss", &series).svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("loss (log scale)"), "{svg}");
    for tick in [">0.001<", ">0.01<", ">0.1<", ">1<", ">10<"] {
        assert!(svg.contains(tick), "{tick}");
    }
    // x ticks 1..5 labelled, an x label, one swatch per series.
    for tick in [">1<", ">2<", ">5<", ">epoch<"] {
        assert!(svg.contains(tick), "{tick}");
    }
    assert_eq!(svg.matches("<rect x=").count(), 2);
    assert_eq!(svg.matches("<polyline").count(), 2);
    // The legend is right of the plot area: its swatches start beyond every
    // point of every curve.
    let number_after = |s: &str, key: &str| -> Vec<f64> {
        s.match_indices(key)
            .map(|(i, _)| {
                let rest = &s[i + key.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let swatch_x = number_after(&svg, "<rect x=\"");
    let max_point_x = svg
        .split("points=\"")
        .skip(1)
        .flat_map(|p| {
            p[..p.find('"').unwrap()]
                .split(' ')
                .map(|xy| xy.split(',').next().unwrap().parse::<f64>().unwrap())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max);
    assert!(
        swatch_x.iter().all(|&x| x > max_point_x),
        "{swatch_x:?} vs {max_point_x}"
    );

    // Linear when asked, NaN breaks a line, one value is a dot, text escaped.
    let accuracy: [(&str, &[f64]); 1] = [("a<b", &[0.1, 0.5, f64::NAN, 0.9, 1.0])];
    let lin = Chart {
        allow_log_y: false,
        ..Chart::per_epoch("acc & more", "accuracy", &accuracy)
    }
    .svg();
    assert!(!lin.contains("log scale") && lin.contains("a&lt;b") && lin.contains("acc &amp; more"));
    assert_eq!(lin.matches("<polyline").count(), 2);
    let one: [(&str, &[f64]); 1] = [("loss", &[0.7])];
    assert!(Chart::per_epoch("one", "loss", &one)
        .svg()
        .contains("<circle"));
    assert!(!lin.contains(">-0"));
}
