//! A reader for numeric CSV tables with a label column.

use std::path::Path;

use super::dataset::Dataset;
use crate::dtype::{dispatch, DType, Element};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// A numeric table read by [`read_csv`]: every column but the label is a
/// feature.
#[derive(Clone)]
pub struct CsvTable {
    /// Feature column names, in file order.
    pub feature_names: Vec<String>,
    /// The label column's name.
    pub label_name: String,
    /// `[rows, features]`.
    pub features: Tensor,
    /// `[rows]`.
    pub labels: Tensor,
}

impl CsvTable {
    /// Features and labels as a [`Dataset`].
    pub fn dataset(&self) -> Result<Dataset> {
        Dataset::new(self.features.clone(), self.labels.clone())
    }
}

/// Reads a CSV file of numbers with a header row; the column named
/// `label_column` becomes the labels, the others the features, as `dtype`.
///
/// The format is the plain one of the files in `data/`: `,` separators, no
/// quoting, one header row; `\r\n` line ends and blank lines are accepted.
/// Values are parsed with Rust's `f64` parser (exact for the shortest
/// round-trip text). Missing, non-numeric and non-finite values are errors
/// (`Error::Format`) naming the line (1-based, the header being line 1), the
/// column (1-based) and the column's name; so are rows with the wrong
/// number of fields.
///
/// ```
/// use tapegrad::data::read_csv;
/// use tapegrad::DType;
/// let t = read_csv("data/iris.csv", "label", DType::F64).unwrap();
/// assert_eq!(t.features.dims(), &[150, 4]);
/// assert_eq!(t.feature_names[0], "sepal_length_cm");
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
/// ```
pub fn parse_csv(text: &str, label_column: &str, dtype: DType) -> Result<CsvTable> {
    parse(text, label_column, dtype, "<text>")
}

fn parse(text: &str, label_column: &str, dtype: DType, source: &str) -> Result<CsvTable> {
    let fail = |detail: String| Error::Format {
        op: "read_csv",
        detail: format!("{source}: {detail}"),
    };
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| fail("the file is empty (no header row)".into()))?;
    let names: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
    let label_idx = names
        .iter()
        .position(|n| n == label_column)
        .ok_or_else(|| {
            fail(format!(
                "line 1: no column named '{label_column}' (columns: {})",
                names.join(", ")
            ))
        })?;
    if let Some((col, name)) = names.iter().enumerate().find(|(_, n)| n.is_empty()) {
        return Err(fail(format!(
            "line 1, column {}: empty column name{name}",
            col + 1
        )));
    }
    let n_cols = names.len();
    let mut features: Vec<f64> = Vec::new();
    let mut labels: Vec<f64> = Vec::new();
    let mut rows = 0usize;
    for (line_no, line) in lines {
        let mut count = 0;
        for (col, field) in line.split(',').enumerate() {
            count += 1;
            if col >= n_cols {
                continue;
            }
            let field = field.trim();
            let at = || format!("line {line_no}, column {} ('{}')", col + 1, names[col]);
            if field.is_empty() {
                return Err(fail(format!("{}: missing value", at())));
            }
            let v: f64 = field
                .parse()
                .map_err(|_| fail(format!("{}: cannot parse \"{field}\" as a number", at())))?;
            if !v.is_finite() {
                return Err(fail(format!("{}: value \"{field}\" is not finite", at())));
            }
            if col == label_idx {
                labels.push(v);
            } else {
                features.push(v);
            }
        }
        if count != n_cols {
            return Err(fail(format!(
                "line {line_no}: expected {n_cols} fields as in the header, got {count}"
            )));
        }
        rows += 1;
    }
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
    })
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
