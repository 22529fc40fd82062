//! Files and text from outside the program cannot sneak past the checks
//! (issue 12, item 7): each case is an `Err` naming the file or value, never
//! a panic, and leaves the model as it was.

use tapegrad::data::parse_csv;
use tapegrad::nn::{Linear, Module};
use tapegrad::optim::{Adam, AdamConfig};
use tapegrad::{checkpoint, seeded_rng, DType, Error, Tensor};

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tapegrad-bad-files-{}-{name}", std::process::id()))
}

/// A safetensors file whose header claims one F32 tensor `name` of shape
/// `dims` with no data (valid as far as safetensors is concerned when a dim
/// is 0).
fn header_only_file(name: &str, dims: &[u64]) -> Vec<u8> {
    let shape = dims
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut header =
        format!(r#"{{"{name}":{{"dtype":"F32","shape":[{shape}],"data_offsets":[0,0]}}}}"#);
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes
}

#[test]
fn checkpoint_header_with_zero_and_huge_dims_is_refused() {
    let model = Linear::new(2, 1, true, &mut seeded_rng(0));
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec()).collect();
    let path = temp("huge.safetensors");
    let huge = 1u64 << 40;
    std::fs::write(&path, header_only_file("weight", &[0, huge, huge])).unwrap();

    let err = checkpoint::load(&model, &path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("load_checkpoint") && text.contains("'weight'"),
        "{text}"
    );
    assert!(text.contains("cannot be allocated"), "{text}");
    let after: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec()).collect();
    assert_eq!(before, after);

    let err = checkpoint::read_tensors(&path).unwrap_err();
    assert!(err.to_string().contains("read_tensors"), "{err}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn optimizer_state_header_with_zero_and_huge_dims_is_refused() {
    let w = Tensor::zeros([2]).requires_grad_(true);
    let mut opt = Adam::new([w], AdamConfig::default()).unwrap();
    let path = temp("huge.optim.safetensors");
    let huge = 1u64 << 40;
    std::fs::write(&path, header_only_file("0.exp_avg", &[0, huge, huge])).unwrap();
    let err = checkpoint::load_optimizer(&mut opt, &path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("load_optimizer") && text.contains("'0.exp_avg'"),
        "{text}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn csv_f32_overflow_is_an_error_not_infinity() {
    let err = parse_csv("a,label\n1e39,0\n", "label", DType::F32).unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2, column 1 ('a'): value \"1e39\" is too large for float32"),
        "{err}"
    );
    let err = parse_csv("a,label\n1,-1e39\n", "label", DType::F32).unwrap_err();
    assert!(
        err.to_string().contains("line 2, column 2 ('label')"),
        "{err}"
    );
    // The same value fits a float64.
    let t = parse_csv("a,label\n1e39,0\n", "label", DType::F64).unwrap();
    assert_eq!(t.features.to_vec::<f64>(), vec![1e39]);
}

#[test]
fn csv_byte_order_mark_is_stripped() {
    let t = parse_csv("\u{feff}x,label\n1,0\n", "label", DType::F32).unwrap();
    assert_eq!(t.feature_names, ["x"]);
    let t = parse_csv("\u{feff}label,x\n1,0\n", "label", DType::F32).unwrap();
    assert_eq!(t.label_name, "label");
}

#[test]
fn csv_duplicated_column_name_is_an_error() {
    let err = parse_csv("a,b,a,label\n1,2,3,0\n", "label", DType::F32).unwrap_err();
    assert_eq!(
        err.to_string(),
        "read_csv: <text>: line 1: column name 'a' appears twice (columns 1 and 3)"
    );
}

#[test]
fn csv_quotes_and_class_names() {
    let text =
        "\"width, cm\",\"say \"\"hi\"\"\",species\n\"1.5\", 2 ,virginica\n3,4,\"setosa\"\r\n";
    let t = parse_csv(text, "species", DType::F32).unwrap();
    assert_eq!(t.feature_names, ["width, cm", "say \"hi\""]);
    assert_eq!(t.features.to_vec::<f32>(), vec![1.5, 2.0, 3.0, 4.0]);
    assert_eq!(t.labels.to_vec::<f32>(), vec![1.0, 0.0]);
    let ids = t.label_ids.as_ref().unwrap();
    assert_eq!((ids["setosa"], ids["virginica"]), (0, 1));
    let err = parse_csv("a,label\n\"1,0\n", "label", DType::F32).unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2: a quoted field is not closed"),
        "{err}"
    );
    let err = parse_csv("a,label\n1\"2,0\n", "label", DType::F32).unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2: a quote inside an unquoted field"),
        "{err}"
    );
}

#[test]
fn index_errors_name_the_value_given() {
    // A class id beyond i64: the message must not show 9223372036854775807.
    let logits = Tensor::zeros([1, 3]);
    let err = tapegrad::nn::functional::cross_entropy(
        &logits,
        &Tensor::new([1e30f64]).to_dtype(DType::F32),
    )
    .unwrap_err();
    let text = err.to_string();
    // 1e30 as an f32 is 1000000015047466219876688855040, printed as Rust prints it.
    assert!(text.contains("index 1000000015047466"), "{text}");
    assert!(!text.contains("9223372036854775807"), "{text}");

    let src = Tensor::new([1.0f32, 2.0, 3.0]);
    let err = src
        .try_index_select(0, &Tensor::new([1e20f64]))
        .unwrap_err();
    assert!(!err.to_string().contains("9223372036854775807"), "{err}");
    assert!(err.to_string().contains("100000000000000000000"), "{err}");

    // A usize above i64::MAX used to wrap to a negative index.
    let ds = tapegrad::data::Dataset::new(Tensor::zeros([2, 1]), Tensor::zeros([2])).unwrap();
    let err = ds.select(&[usize::MAX]).unwrap_err();
    assert!(err.to_string().contains(&usize::MAX.to_string()), "{err}");
    assert!(!err.to_string().contains("index -1"), "{err}");
    // In range of i64, the variant is still IndexOutOfRange.
    assert!(matches!(
        ds.select(&[5]).unwrap_err(),
        Error::IndexOutOfRange { index: 5, .. }
    ));
}
