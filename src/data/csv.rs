//! A reader for CSV tables of numbers with a label column (numeric class
//! ids or class names).
//!
//! A small reader rather than the `csv` crate: the tables this crate
//! trains on are numbers with one header row, and what they need beyond a
//! `split(',')` is RFC 4180 quoting, a byte-order mark and class names. That
//! is one function (`records`) here, while `csv` would add two crates to every
//! build and still leave the numeric checks and the line/column messages to
//! write.

use crate::dtype::Scalar;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::dataset::Dataset;
use crate::dtype::{dispatch, DType};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// A numeric table read by [`read_csv`]: every column but the label is a
/// feature.
#[derive(Clone, Debug)]
pub struct CsvTable {
    /// Feature column names, in file order.
    pub feature_names: Vec<String>,
    /// The label column's name.
    pub label_name: String,
    /// `[rows, features]`.
    pub features: Tensor,
    /// `[rows]`: the label values, or the class ids of
    /// [`label_ids`](CsvTable::label_ids) when the labels are names.
    pub labels: Tensor,
    /// When the label column holds class names (`setosa`, `versicolor`,
    /// ...), each name with the class id it was given: ids follow the names'
    /// sorted order, so two files with the same classes get the same ids
    /// whatever their row order. `None` when every label is a number.
    pub label_ids: Option<BTreeMap<String, usize>>,
}

impl CsvTable {
    /// Features and labels as a [`Dataset`].
    pub fn dataset(&self) -> Result<Dataset> {
        Dataset::new(self.features.clone(), self.labels.clone())
    }

    /// The class names by id (`names[id]`), when the labels are names.
    ///
    /// ```
    /// use tapegrad::data::parse_csv;
    /// use tapegrad::DType;
    /// let t = parse_csv("x,species\n1,setosa\n2,virginica\n3,setosa\n", "species", DType::F32).unwrap();
    /// assert_eq!(t.class_names().unwrap(), ["setosa", "virginica"]);
    /// assert_eq!(t.labels.to_vec::<f32>(), vec![0.0, 1.0, 0.0]);
    /// ```
    pub fn class_names(&self) -> Option<Vec<&str>> {
        let ids = self.label_ids.as_ref()?;
        let mut names = vec![""; ids.len()];
        for (name, &id) in ids {
            names[id] = name;
        }
        Some(names)
    }
}

/// Reads a CSV file of numbers with a header row; the column named
/// `label_column` becomes the labels, the others the features, as `dtype`.
///
/// Fields are separated by `,`; a field may be quoted (`"1,5"`, with `""`
/// for a quote inside, and line breaks allowed inside the quotes), as RFC
/// 4180 and spreadsheet exports write them. A UTF-8 byte-order mark,
/// `\r\n` line ends and blank lines are accepted. Values are parsed with
/// Rust's `f64` parser (exact for the shortest round-trip text).
///
/// Labels are numbers, or class names: if any label is not a number, every
/// distinct label text becomes a class, numbered in sorted order, and
/// [`CsvTable::label_ids`] holds the map.
///
/// These are errors ([`Error::Format`]) naming the line (1-based, the header
/// being line 1), the column (1-based) and the column's name: a missing,
/// non-numeric or non-finite feature value, including a value too large for
/// `dtype` (`1e39` in `F32`); a row with the wrong number of fields; an
/// unterminated quote; an empty or repeated column name.
///
/// ```
/// use tapegrad::data::read_csv;
/// use tapegrad::DType;
/// let t = read_csv("data/iris.csv", "label", DType::F64).unwrap();
/// assert_eq!(t.features.dims(), &[150, 4]);
/// assert_eq!(t.feature_names[0], "sepal_length_cm");
/// assert!(t.label_ids.is_none()); // iris.csv's labels are numbers
/// ```
pub fn read_csv(path: impl AsRef<Path>, label_column: &str, dtype: DType) -> Result<CsvTable> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        op: "read_csv",
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    parse(&text, label_column, dtype, &path.display().to_string())
}

/// [`read_csv`] on text already in memory.
///
/// ```
/// use tapegrad::data::parse_csv;
/// use tapegrad::DType;
/// let err = parse_csv("a,b,label\n1,2,0\n3,x,1\n", "label", DType::F32).err().unwrap();
/// assert_eq!(
///     err.to_string(),
///     "read_csv: <text>: line 3, column 2 ('b'): cannot parse \"x\" as a number"
/// );
/// // Quoted fields, e.g. from a spreadsheet:
/// let t = parse_csv("\"a\",label\n\"1.5\",0\n", "label", DType::F32).unwrap();
/// assert_eq!(t.features.to_vec::<f32>(), vec![1.5]);
/// ```
pub fn parse_csv(text: &str, label_column: &str, dtype: DType) -> Result<CsvTable> {
    parse(text, label_column, dtype, "<text>")
}

/// One row of fields and the (1-based) line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Splits `text` into records of fields, RFC 4180 style: `,` separates,
/// `"` quotes (a doubled `""` is a quote inside), line breaks end a record
/// except inside quotes. Blank lines are skipped; fields outside quotes are
/// trimmed of surrounding spaces.
fn records(text: &str, fail: &dyn Fn(String) -> Error) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false; // this field was quoted
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let finish_field = |field: &mut String, quoted: &mut bool, fields: &mut Vec<String>| {
        let f = std::mem::take(field);
        fields.push(if *quoted { f } else { f.trim().to_string() });
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !quoted => {
                field.clear();
                quoted = true;
                in_quotes = true;
            }
            '"' => {
                return Err(fail(format!(
                    "line {line}: a quote inside an unquoted field (quote the whole field and double the quote)"
                )))
            }
            ',' => finish_field(&mut field, &mut quoted, &mut fields),
            '\n' | '\r' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                let blank = fields.is_empty() && !quoted && field.trim().is_empty();
                if !blank {
                    finish_field(&mut field, &mut quoted, &mut fields);
                    out.push(Record {
                        line: start_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                field.clear();
                line += 1;
                start_line = line;
            }
            _ if quoted => {
                if !c.is_whitespace() {
                    return Err(fail(format!(
                        "line {line}: text after the closing quote of a field"
                    )));
                }
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(fail(format!(
            "line {start_line}: a quoted field is not closed before the end of the file"
        )));
    }
    if !(fields.is_empty() && !quoted && field.trim().is_empty()) {
        finish_field(&mut field, &mut quoted, &mut fields);
        out.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(out)
}

fn parse(text: &str, label_column: &str, dtype: DType, source: &str) -> Result<CsvTable> {
    crate::dtype::require_float("read_csv", dtype)?;
    let fail = |detail: String| Error::Format {
        op: "read_csv",
        detail: format!("{source}: {detail}"),
    };
    // Spreadsheets on Windows start UTF-8 files with a byte-order mark; left
    // in, it would become part of the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows_iter = records(text, &fail)?.into_iter();
    let Record { fields: names, .. } = rows_iter
        .next()
        .ok_or_else(|| fail("the file is empty (no header row)".into()))?;
    if let Some(col) = names.iter().position(|n| n.is_empty()) {
        return Err(fail(format!(
            "line 1, column {}: empty column name",
            col + 1
        )));
    }
    let mut first_seen = BTreeMap::new();
    for (col, name) in names.iter().enumerate() {
        if let Some(first) = first_seen.insert(name.as_str(), col) {
            return Err(fail(format!(
                "line 1: column name '{name}' appears twice (columns {} and {})",
                first + 1,
                col + 1
            )));
        }
    }
    let label_idx = names
        .iter()
        .position(|n| n == label_column)
        .ok_or_else(|| {
            fail(format!(
                "line 1: no column named '{label_column}' (columns: {})",
                names.join(", ")
            ))
        })?;
    let n_cols = names.len();
    let mut features: Vec<f64> = Vec::new();
    let mut label_texts: Vec<String> = Vec::new();
    let mut label_lines: Vec<usize> = Vec::new();
    let mut rows = 0usize;
    for Record { line, fields } in rows_iter {
        if fields.len() != n_cols {
            return Err(fail(format!(
                "line {line}: expected {n_cols} fields as in the header, got {}",
                fields.len()
            )));
        }
        for (col, field) in fields.into_iter().enumerate() {
            let at = || format!("line {line}, column {} ('{}')", col + 1, names[col]);
            if field.is_empty() {
                return Err(fail(format!("{}: missing value", at())));
            }
            if col == label_idx {
                label_texts.push(field);
                label_lines.push(line);
            } else {
                features
                    .push(number(&field, dtype).map_err(|why| fail(format!("{}: {why}", at())))?);
            }
        }
        rows += 1;
    }
    let (labels, label_ids) = labels_of(&label_texts, dtype);
    let labels = match labels {
        Ok(values) => values,
        // Numeric labels, one of which is not finite in `dtype`: report it.
        Err(row) => {
            let why = number(&label_texts[row], dtype).expect_err("reported as failing");
            return Err(fail(format!(
                "line {}, column {} ('{}'): {why}",
                label_lines[row],
                label_idx + 1,
                names[label_idx]
            )));
        }
    };
    let mut feature_names = names.clone();
    let label_name = feature_names.remove(label_idx);
    let n_feat = n_cols - 1;
    let (features, labels) = dispatch!(dtype, T => (
        Tensor::from_parts(features.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>(), Shape::new(&[rows, n_feat])),
        Tensor::from_parts(labels.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>(), Shape::new(&[rows])),
    ));
    Ok(CsvTable {
        feature_names,
        label_name,
        features,
        labels,
        label_ids,
    })
}

/// `field` as a finite number that stays finite in `dtype`, or why not.
fn number(field: &str, dtype: DType) -> std::result::Result<f64, String> {
    let v: f64 = field
        .parse()
        .map_err(|_| format!("cannot parse \"{field}\" as a number"))?;
    if !v.is_finite() {
        return Err(format!("value \"{field}\" is not finite"));
    }
    // 1e39 is a finite f64 but rounds to infinity as an f32.
    let narrowed_finite = match dtype {
        DType::F32 => (v as f32).is_finite(),
        _ => true,
    };
    if !narrowed_finite {
        return Err(format!("value \"{field}\" is too large for {dtype}"));
    }
    Ok(v)
}

/// Label values, or the row of the first one that does not fit the dtype.
type LabelValues = std::result::Result<Vec<f64>, usize>;

/// The label values: numbers if every label parses as one (an `Err(row)`
/// for the first that is not finite in `dtype`: `nan`, `inf`, `1e39` in
/// `F32`), otherwise class ids with the name → id map.
fn labels_of(texts: &[String], dtype: DType) -> (LabelValues, Option<BTreeMap<String, usize>>) {
    let parsed: Option<Vec<f64>> = texts.iter().map(|t| t.parse::<f64>().ok()).collect();
    if let Some(values) = parsed {
        let bad = texts.iter().position(|t| number(t, dtype).is_err());
        return (bad.map_or(Ok(values), Err), None);
    }
    let names: BTreeSet<&str> = texts.iter().map(String::as_str).collect();
    let ids: BTreeMap<String, usize> = names
        .into_iter()
        .enumerate()
        .map(|(id, name)| (name.to_string(), id))
        .collect();
    let values = texts.iter().map(|t| ids[t.as_str()] as f64).collect();
    (Ok(values), Some(ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_label_anywhere_and_crlf() {
        let t = parse_csv("y,a,b\r\n1,2,3\r\n\r\n0,4.5,-6e1\r\n", "y", DType::F64).unwrap();
        assert_eq!(t.feature_names, ["a", "b"]);
        assert_eq!(t.label_name, "y");
        assert_eq!(t.features.to_vec::<f64>(), vec![2.0, 3.0, 4.5, -60.0]);
        assert_eq!(t.labels.to_vec::<f64>(), vec![1.0, 0.0]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = |s: &str| parse_csv(s, "label", DType::F32).err().unwrap().to_string();
        assert!(
            e("a,label\n1,0\n2\n").contains("line 3: expected 2 fields as in the header, got 1")
        );
        assert!(e("a,label\n1,0\n2,1,5\n").contains("line 3: expected 2 fields"));
        assert!(e("a,label\n1,\n").contains("line 2, column 2 ('label'): missing value"));
        assert!(
            e("a,label\nnan,1\n").contains("line 2, column 1 ('a'): value \"nan\" is not finite")
        );
        assert!(e("a,b\n1,2\n").contains("no column named 'label'"));
        assert!(e("").contains("empty"));
        let io = read_csv("/nonexistent/x.csv", "label", DType::F32)
            .err()
            .unwrap();
        assert!(matches!(io, Error::Io { .. }));
    }
}
