//! Checkpoints in the [safetensors](https://huggingface.co/docs/safetensors)
//! format.
//!
//! # Model weights
//! [`save`] writes a module's parameters with their dotted names
//! ([`Module::named_parameters`]) as tensor names, in their own dtype
//! (`F32` or `F64`). The file is what `safetensors.torch.save_file(model.state_dict(), path)`
//! writes for the same architecture, so it moves both ways:
//!
//! ```python
//! from safetensors.torch import load_file, save_file
//! model.load_state_dict(load_file("model.safetensors"))   # tapegrad → PyTorch
//! save_file(model.state_dict(), "model.safetensors")      # PyTorch → tapegrad
//! ```
//!
//! Saving is atomic: the bytes go to a temporary file in the same directory,
//! which is flushed to disk and then renamed over the target, so a crash
//! mid-save leaves either the old checkpoint or the new one, never half of
//! one.
//!
//! [`load`] checks the whole file before touching the model: it must be a
//! complete safetensors file, hold exactly the model's tensor names (none
//! missing, none extra), and each tensor must have the parameter's shape and
//! dtype. Any failure is an [`Error`] naming the file and the tensor, and
//! the parameters keep their values. (safetensors has no checksum: a
//! corrupted header or truncated file is detected, flipped bits inside the
//! tensor data are not.)
//!
//! # Optimizer state
//! Optimizer state goes into a sibling file, e.g. `model.safetensors` and
//! `model.optim.safetensors`, written by [`save_optimizer`] and read by
//! [`load_optimizer`] with the same atomicity and validation. Keeping it out
//! of the weights file means the weights file stays a plain `state_dict`
//! that PyTorch's strict `load_state_dict` accepts. Its tensors are the
//! [`OptimizerState`] tensors (`"0.momentum_buffer"`, `"3.exp_avg"`, ...,
//! keyed by parameter index as in PyTorch); the optimizer kind and its
//! hyperparameters are in the safetensors metadata (`"kind"`,
//! `"hyper.lr"`, ...), numbers written so that they parse back exactly.
//!
//! ```
//! use tapegrad::nn::{mlp, Activation, Module};
//! use tapegrad::optim::{Adam, AdamConfig, Optimizer};
//! use tapegrad::{checkpoint, seeded_rng, Tensor};
//! let dir = std::env::temp_dir().join(format!("tapegrad-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let model = mlp(&[2, 3, 1], Activation::Tanh, &mut seeded_rng(0)).unwrap();
//! let mut opt = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
//! model.forward(&Tensor::ones(&[4, 2])).square().mean().backward();
//! opt.step().unwrap();
//! checkpoint::save(&model, dir.join("m.safetensors")).unwrap();
//! checkpoint::save_optimizer(&opt, dir.join("m.optim.safetensors")).unwrap();
//!
//! let restored = mlp(&[2, 3, 1], Activation::Tanh, &mut seeded_rng(99)).unwrap();
//! let mut opt2 = Adam::new(restored.parameters(), AdamConfig::default()).unwrap();
//! checkpoint::load(&restored, dir.join("m.safetensors")).unwrap();
//! checkpoint::load_optimizer(&mut opt2, dir.join("m.optim.safetensors")).unwrap();
//! assert_eq!(restored.parameters()[0].to_vec::<f32>(), model.parameters()[0].to_vec::<f32>());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::dtype::{dispatch_scalar, DType};
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::optim::{Optimizer, OptimizerState};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Writes `model`'s parameters to a safetensors file at `path`, atomically.
pub fn save(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let named = model.named_parameters();
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    save_tensors(&named, Some(meta), path.as_ref(), "save_checkpoint")
}

/// Loads a safetensors file written by [`save`] (or by PyTorch) into
/// `model`'s parameters, in place. Everything is validated before any
/// parameter changes; see the [module docs](self).
pub fn load(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    const OP: &str = "load_checkpoint";
    let path = path.as_ref();
    let params = model.named_parameters();
    let bytes = read_file(OP, path)?;
    check_header_shapes(OP, path, &bytes)?;
    let file = parse(OP, path, &bytes)?;
    let fmt = |detail: String| Error::Format {
        op: OP,
        detail: format!("{}: {detail}", path.display()),
    };
    let mut seen = BTreeMap::new();
    let mut values = Vec::with_capacity(params.len());
    for (name, p) in &params {
        if seen.insert(name.as_str(), ()).is_some() {
            return Err(fmt(format!("the model has two parameters named '{name}'")));
        }
        if !p.is_contiguous() {
            return Err(fmt(format!(
                "parameter '{name}' is a non-contiguous view and cannot be loaded in place"
            )));
        }
        let view = file.tensor(name).map_err(|_| {
            fmt(format!(
                "missing tensor '{name}' (the model has it, the file does not)"
            ))
        })?;
        let t = decode(OP, path, name, &view)?;
        if t.dtype() != p.dtype() {
            return Err(fmt(format!(
                "tensor '{name}' has dtype {} in the file but the parameter is {}",
                t.dtype(),
                p.dtype()
            )));
        }
        if t.shape() != p.shape() {
            return Err(fmt(format!(
                "tensor '{name}' has shape {} in the file but the parameter has shape {}",
                t.shape(),
                p.shape()
            )));
        }
        values.push(t);
    }
    let mut extra: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !seen.contains_key(n))
        .collect();
    extra.sort_unstable();
    if let Some(first) = extra.first() {
        return Err(fmt(format!(
            "unexpected tensor '{first}' (the file has it, the model does not){}",
            if extra.len() > 1 {
                format!("; {} unexpected in all: {}", extra.len(), extra.join(", "))
            } else {
                String::new()
            }
        )));
    }
    // Validated: from here on nothing can fail.
    for ((_, p), v) in params.iter().zip(&values) {
        p.try_copy_(v)?;
    }
    Ok(())
}

/// Writes an optimizer's state to a safetensors file at `path`, atomically
/// (the sibling of a model checkpoint; see the [module docs](self)).
pub fn save_optimizer(optimizer: &dyn Optimizer, path: impl AsRef<Path>) -> Result<()> {
    let state = optimizer.state_dict();
    let mut meta = HashMap::from([
        ("format".to_string(), "tapegrad-optimizer".to_string()),
        ("kind".to_string(), state.kind.clone()),
    ]);
    for (k, v) in &state.hyperparameters {
        // `{:?}` on f64 is the shortest text that parses back to the same bits.
        meta.insert(format!("hyper.{k}"), format!("{v:?}"));
    }
    save_tensors(&state.tensors, Some(meta), path.as_ref(), "save_optimizer")
}

/// Restores an optimizer's state from a file written by [`save_optimizer`].
/// The optimizer must be built over the same parameters (same order, shapes
/// and dtypes); on any error it is left unchanged.
pub fn load_optimizer(optimizer: &mut dyn Optimizer, path: impl AsRef<Path>) -> Result<()> {
    const OP: &str = "load_optimizer";
    let path = path.as_ref();
    let bytes = read_file(OP, path)?;
    check_header_shapes(OP, path, &bytes)?;
    let fmt = |detail: String| Error::Format {
        op: OP,
        detail: format!("{}: {detail}", path.display()),
    };
    let (_, metadata) = SafeTensors::read_metadata(&bytes).map_err(|e| {
        fmt(format!(
            "not a valid safetensors file (truncated or corrupted?): {e}"
        ))
    })?;
    let meta = metadata.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some("tapegrad-optimizer") {
        return Err(fmt(
            "not an optimizer state file (metadata 'format' is not 'tapegrad-optimizer')".into(),
        ));
    }
    let kind = meta
        .get("kind")
        .cloned()
        .ok_or_else(|| fmt("metadata has no 'kind'".into()))?;
    let mut hyperparameters = BTreeMap::new();
    for (k, v) in &meta {
        if let Some(name) = k.strip_prefix("hyper.") {
            let x: f64 = v
                .parse()
                .map_err(|_| fmt(format!("hyperparameter '{name}' = '{v}' is not a number")))?;
            hyperparameters.insert(name.to_string(), x);
        }
    }
    let file = parse(OP, path, &bytes)?;
    let mut names = file.names();
    names.sort_unstable();
    let tensors = names
        .into_iter()
        .map(|name| {
            Ok((
                name.to_string(),
                decode(OP, path, name, &file.tensor(name).expect("listed"))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let state = OptimizerState {
        kind,
        hyperparameters,
        tensors,
    };
    optimizer.load_state_dict(&state).map_err(|e| match e {
        Error::Format { detail, .. } => fmt(detail),
        other => other,
    })
}

/// Writes named tensors (plus optional metadata) to `path` atomically.
fn save_tensors(
    named: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
    path: &Path,
    op: &'static str,
) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::Io {
        op,
        path: p.display().to_string(),
        detail: e.to_string(),
    };
    let mut seen = std::collections::HashSet::new();
    let mut encoded = Vec::with_capacity(named.len());
    for (name, t) in named {
        if !seen.insert(name.as_str()) {
            return Err(Error::invalid(
                op,
                format!("two tensors are named '{name}'"),
            ));
        }
        let (dtype, bytes) = encode(t);
        encoded.push((name.clone(), dtype, t.dims().to_vec(), bytes));
    }
    let views = encoded
        .iter()
        .map(|(name, dtype, dims, bytes)| {
            TensorView::new(*dtype, dims.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(op, format!("tensor '{name}': {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes =
        safetensors::serialize(views, metadata).map_err(|e| Error::invalid(op, e.to_string()))?;

    let tmp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(io(path, e));
    }
    // Make the rename itself durable; not possible (nor needed) everywhere.
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A name in the same directory as `path` (so the rename stays on one file
/// system), unique per process and call.
fn temp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{file}.tmp-{}-{n}", std::process::id()))
}

fn read_file(op: &'static str, path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::Io {
        op,
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

fn parse<'a>(op: &'static str, path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| Error::Format {
        op,
        detail: format!(
            "{}: not a valid safetensors file (truncated or corrupted?): {e}",
            path.display()
        ),
    })
}

fn encode(t: &Tensor) -> (Dtype, Vec<u8>) {
    match t.dtype() {
        DType::F32 => (
            Dtype::F32,
            t.with_contiguous::<f32, _>(|d| d.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ),
        DType::F64 => (
            Dtype::F64,
            t.with_contiguous::<f64, _>(|d| d.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ),
        DType::I64 => (
            Dtype::I64,
            t.with_contiguous::<i64, _>(|d| d.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ),
    }
}

fn decode(op: &'static str, path: &Path, name: &str, view: &TensorView<'_>) -> Result<Tensor> {
    let shape = Shape::new(view.shape());
    let data = view.data();
    let dtype = match view.dtype() {
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        Dtype::I64 => DType::I64,
        other => {
            return Err(Error::Format {
                op,
                detail: format!(
                    "{}: tensor '{name}' has dtype {other:?}; tapegrad reads F32, F64 and I64 (convert with .float() before saving)",
                    path.display()
                ),
            })
        }
    };
    // safetensors has already checked that the byte length matches the shape.
    Ok(dispatch_scalar!(dtype, T => {
        let values: Vec<T> = data
            .chunks_exact(std::mem::size_of::<T>())
            .map(T::from_le_slice)
            .collect();
        Tensor::from_parts(values, shape)
    }))
}

trait FromLe: Sized {
    fn from_le_slice(bytes: &[u8]) -> Self;
}

impl FromLe for i64 {
    fn from_le_slice(bytes: &[u8]) -> Self {
        i64::from_le_bytes(bytes.try_into().expect("chunk of 8"))
    }
}

impl FromLe for f32 {
    fn from_le_slice(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("chunk of 4"))
    }
}

impl FromLe for f64 {
    fn from_le_slice(bytes: &[u8]) -> Self {
        f64::from_le_bytes(bytes.try_into().expect("chunk of 8"))
    }
}

/// Runs the crate's size check ([`check_alloc`](crate::tensor::create::check_alloc))
/// on every shape in the file's header before any tensor is built.
///
/// safetensors validates that each tensor's byte range matches the product
/// of its dims, and a zero dim makes that product 0 whatever the other dims
/// are; but a tensor of shape `[0, 2^40, 2^40]` has strides that overflow,
/// and every tensor in the crate keeps the invariant that its shape (zeros
/// counted as ones) fits in memory. A header that breaks it is refused here,
/// naming the file and the tensor.
fn check_header_shapes(op: &'static str, path: &Path, bytes: &[u8]) -> Result<()> {
    let Ok((_, metadata)) = SafeTensors::read_metadata(bytes) else {
        // Not parseable: `parse` reports it with the safetensors message.
        return Ok(());
    };
    for (name, info) in metadata.tensors() {
        let dtype = match info.dtype {
            Dtype::F64 => DType::F64,
            Dtype::I64 => DType::I64,
            // Other dtypes are refused by `decode`; size them as f32 here.
            _ => DType::F32,
        };
        crate::tensor::create::check_alloc(op, &info.shape, dtype).map_err(|e| Error::Format {
            op,
            detail: format!("{}: tensor '{name}': {e}", path.display()),
        })?;
    }
    Ok(())
}

/// Every named tensor of a safetensors file, without a [`Module`] to load
/// them into (`safetensors.torch.load_file`).
///
/// Use it to inspect a checkpoint, to take weights from a file whose names
/// do not match your model, or to read a file written by another program.
/// The same checks as [`load`] apply: a truncated or corrupted file, a
/// shape too large to exist, or a dtype other than `F32` / `F64` is an
/// [`Error`] naming the file and the tensor.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad::{checkpoint, Tensor};
/// let path = std::env::temp_dir().join(format!("tapegrad-rt-{}.safetensors", std::process::id()));
/// let mut tensors = BTreeMap::new();
/// tensors.insert("w".to_string(), Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]));
/// tensors.insert("b".to_string(), Tensor::new([0.5f64]));
/// checkpoint::write_tensors(&path, &tensors).unwrap();
///
/// let back = checkpoint::read_tensors(&path).unwrap();
/// assert_eq!(back.keys().collect::<Vec<_>>(), ["b", "w"]);
/// assert_eq!(back["w"].dims(), &[2, 2]);
/// assert_eq!(back["b"].to_vec::<f64>(), vec![0.5]);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn read_tensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>> {
    const OP: &str = "read_tensors";
    let path = path.as_ref();
    let bytes = read_file(OP, path)?;
    check_header_shapes(OP, path, &bytes)?;
    let file = parse(OP, path, &bytes)?;
    file.names()
        .into_iter()
        .map(|name| {
            let view = file.tensor(name).map_err(|e| Error::Format {
                op: OP,
                detail: format!("{}: tensor '{name}': {e}", path.display()),
            })?;
            Ok((name.to_string(), decode(OP, path, name, &view)?))
        })
        .collect()
}

/// Writes named tensors to a safetensors file at `path`, atomically (as
/// [`save`] does): the counterpart of [`read_tensors`], and what
/// `safetensors.torch.save_file(dict, path)` writes.
///
/// The tensors are written in their own dtype and shape, with the values
/// they hold now (views are written as their elements in row-major order).
/// On error, an existing file at `path` is left as it was.
pub fn write_tensors(path: impl AsRef<Path>, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    let named: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.clone()))
        .collect();
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    save_tensors(&named, Some(meta), path.as_ref(), "write_tensors")
}
