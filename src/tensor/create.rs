//! Constructors: from data, filled, ranges, identity, random.

use crate::dtype::Scalar;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};

use super::Tensor;
use crate::dtype::{dispatch, dispatch_scalar, require_float, DType, Element};
use crate::error::{or_panic, Error, Result};
use crate::shape::Shape;

/// Data that [`Tensor::new`] accepts: a scalar or (nested) fixed-size arrays
/// of `f32` or `f64` (a float tensor of that dtype) or of integers (`i64`,
/// `i32`, `u32`, `usize`: an `int64` tensor, as `torch.tensor([0, 1])` is). Arrays are rectangular by construction, so `new`
/// cannot fail.
///
/// Other element types do not compile (and the compiler's note lists what
/// is accepted):
///
/// ```compile_fail
/// let t = tapegrad::Tensor::new([true, false]);
/// ```
///
/// For a `Vec`, use [`Tensor::from_vec`] with a shape, or `Tensor::from(vec)`
/// for a 1-d tensor.
// The list in the note is the one place to extend when a dtype is added.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into a tensor by `Tensor::new`",
    label = "expected an f32, f64 or integer scalar, or nested fixed-size arrays of them",
    note = "tensor element types: f32, f64, and i64 for class ids and indices (from i64, i32, u32 or usize); a `Vec` goes through `Tensor::from_vec(v, &shape)` or `Tensor::from(v)`"
)]
pub trait TensorData {
    /// The element type, which becomes the tensor's dtype.
    type Elem: Scalar;
    /// Appends this value's shape (outermost first) to `dims`.
    fn push_dims(&self, dims: &mut Vec<usize>);
    /// Appends the elements in row-major order.
    fn push_values(&self, out: &mut Vec<Self::Elem>);
}

impl TensorData for f32 {
    type Elem = f32;
    fn push_dims(&self, _: &mut Vec<usize>) {}
    fn push_values(&self, out: &mut Vec<f32>) {
        out.push(*self);
    }
}

impl TensorData for f64 {
    type Elem = f64;
    fn push_dims(&self, _: &mut Vec<usize>) {}
    fn push_values(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

/// Integers become `int64` elements.
macro_rules! integer_data {
    ($($t:ty),*) => {$(
        impl TensorData for $t {
            type Elem = i64;
            fn push_dims(&self, _: &mut Vec<usize>) {}
            fn push_values(&self, out: &mut Vec<i64>) {
                // Values beyond i64 (usize or u32 never are in practice on
                // the platforms Rust supports for this crate) saturate.
                out.push(i64::try_from(*self).unwrap_or(i64::MAX));
            }
        }
    )*};
}
integer_data!(i64, i32, u32, usize);

impl<D: TensorData, const N: usize> TensorData for [D; N] {
    type Elem = D::Elem;
    fn push_dims(&self, dims: &mut Vec<usize>) {
        dims.push(N);
        if let Some(first) = self.first() {
            first.push_dims(dims);
        } else {
            // An empty array's inner dims are unknown: PyTorch gives shape [0].
        }
    }
    fn push_values(&self, out: &mut Vec<D::Elem>) {
        for item in self {
            item.push_values(out);
        }
    }
}

impl Tensor {
    /// A tensor from a scalar or nested arrays; the dtype follows the element
    /// type (`torch.tensor`).
    ///
    /// Rust types an unsuffixed float literal as `f64` when nothing else fixes
    /// it: write `1.0f32` (or annotate) for a `float32` tensor.
    ///
    /// ```
    /// use tapegrad::{DType, Tensor};
    /// let t = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.dims(), &[2, 3]);
    /// assert_eq!(t.dtype(), DType::F32);
    /// assert_eq!(Tensor::new(2.5f64).dtype(), DType::F64);
    /// // Integers make an int64 tensor: class ids, token ids.
    /// let labels = Tensor::new([0, 1, 1, 0]);
    /// assert_eq!(labels.dtype(), DType::I64);
    /// assert_eq!(labels.to_vec::<i64>(), vec![0, 1, 1, 0]);
    /// ```
    pub fn new<D: TensorData>(data: D) -> Tensor {
        let mut dims = Vec::new();
        data.push_dims(&mut dims);
        let mut values = Vec::new();
        data.push_values(&mut values);
        let shape = Shape::new(&dims);
        debug_assert_eq!(shape.numel(), values.len());
        Tensor::from_parts(values, shape)
    }

    /// A tensor from a flat vector in row-major order and a shape.
    ///
    /// The data comes from outside the type system's view, so a length that
    /// does not match the shape is an error, not a panic.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.to_vec::<f32>()[4], 5.0);
    /// assert!(Tensor::from_vec(vec![1.0f32; 5], &[2, 3]).is_err());
    /// ```
    pub fn from_vec<T: Scalar>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        let numel = check_alloc("from_vec", shape.dims(), T::DTYPE)?;
        if data.len() != numel {
            return Err(Error::DataLength {
                op: "from_vec",
                len: data.len(),
                shape: shape.clone(),
                numel,
            });
        }
        Ok(Tensor::from_parts(data, shape))
    }

    /// Like [`from_vec`](Tensor::from_vec), copying from a slice.
    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-d tensor holding one value; the dtype follows the value's type.
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::from_parts(vec![value], Shape::scalar())
    }

    /// A `float32` tensor filled with `value` (`torch.full`).
    pub fn full(shape: impl Into<Shape>, value: f64) -> Tensor {
        Tensor::full_dtype(shape, value, DType::F32)
    }

    /// A tensor of the given dtype filled with `value`.
    pub fn full_dtype(shape: impl Into<Shape>, value: f64, dtype: DType) -> Tensor {
        let shape = shape.into();
        let n = or_panic(check_alloc("full", shape.dims(), dtype));
        dispatch_scalar!(dtype, T => Tensor::from_parts(vec![T::from_f64(value); n], shape))
    }

    /// A `float32` tensor of zeros (`torch.zeros`).
    pub fn zeros(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A `float32` tensor of ones (`torch.ones`).
    pub fn ones(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Zeros with the shape and dtype of `other` (`torch.zeros_like`).
    pub fn zeros_like(other: &Tensor) -> Tensor {
        Tensor::full_dtype(other.shape(), 0.0, other.dtype())
    }

    /// Ones with the shape and dtype of `other` (`torch.ones_like`).
    pub fn ones_like(other: &Tensor) -> Tensor {
        Tensor::full_dtype(other.shape(), 1.0, other.dtype())
    }

    /// `value` with the shape and dtype of `other` (`torch.full_like`).
    pub fn full_like(other: &Tensor, value: f64) -> Tensor {
        Tensor::full_dtype(other.shape(), value, other.dtype())
    }

    /// The 1-d `float32` tensor `start, start + step, ...` up to but excluding
    /// `end` (`torch.arange`). Fails if `step` is 0 or not finite, or the
    /// range is not finite.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::arange(0.0, 1.0, 0.25).unwrap().to_vec::<f32>(), vec![0.0, 0.25, 0.5, 0.75]);
    /// ```
    pub fn arange(start: f64, end: f64, step: f64) -> Result<Tensor> {
        Tensor::arange_dtype(start, end, step, DType::F32)
    }

    /// [`arange`](Tensor::arange) with a chosen dtype.
    pub fn arange_dtype(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if !(start.is_finite() && end.is_finite() && step.is_finite()) || step == 0.0 {
            return Err(Error::invalid(
                "arange",
                format!("need finite start/end and a finite non-zero step, got start={start}, end={end}, step={step}"),
            ));
        }
        if (end - start) * step.signum() < 0.0 {
            // As PyTorch: a step that walks away from `end` is a mistake,
            // not an empty range.
            return Err(Error::invalid(
                "arange",
                format!(
                    "upper bound and lower bound inconsistent with step sign: \
                     start={start}, end={end}, step={step}"
                ),
            ));
        }
        let count = ((end - start) / step).ceil().max(0.0);
        if count > (isize::MAX as f64) / 8.0 {
            return Err(Error::invalid(
                "arange",
                format!("{count} elements is too many"),
            ));
        }
        let n = count as usize;
        check_alloc("arange", &[n], dtype)?;
        Ok(dispatch_scalar!(dtype, T => {
            let data: Vec<T> = (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_parts(data, Shape::new(&[n]))
        }))
    }

    /// The `n × n` `float32` identity matrix (`torch.eye`).
    pub fn eye(n: usize) -> Tensor {
        Tensor::eye_dtype(n, DType::F32)
    }

    /// [`eye`](Tensor::eye) with a chosen dtype.
    pub fn eye_dtype(n: usize, dtype: DType) -> Tensor {
        or_panic(check_alloc("eye", &[n, n], dtype));
        dispatch_scalar!(dtype, T => {
            let mut data = vec![T::from_f64(0.0); n * n];
            for i in 0..n {
                data[i * n + i] = T::from_f64(1.0);
            }
            Tensor::from_parts(data, Shape::new(&[n, n]))
        })
    }

    /// `float32` samples from the uniform distribution on `[0, 1)`
    /// (`torch.rand`), drawn from `rng` so a seed reproduces them.
    ///
    /// ```
    /// use tapegrad::{seeded_rng, Tensor};
    /// let a = Tensor::rand(&[3], &mut seeded_rng(7));
    /// let b = Tensor::rand(&[3], &mut seeded_rng(7));
    /// assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    /// ```
    pub fn rand<R: Rng + ?Sized>(shape: impl Into<Shape>, rng: &mut R) -> Tensor {
        Tensor::rand_dtype(shape, DType::F32, rng)
    }

    /// [`rand`](Tensor::rand) with a chosen dtype.
    pub fn rand_dtype<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        dtype: DType,
        rng: &mut R,
    ) -> Tensor {
        sample("rand", shape.into(), dtype, StandardUniform, rng)
    }

    /// `float32` samples from the standard normal distribution
    /// (`torch.randn`), drawn from `rng`.
    pub fn randn<R: Rng + ?Sized>(shape: impl Into<Shape>, rng: &mut R) -> Tensor {
        Tensor::randn_dtype(shape, DType::F32, rng)
    }

    /// [`randn`](Tensor::randn) with a chosen dtype.
    pub fn randn_dtype<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        dtype: DType,
        rng: &mut R,
    ) -> Tensor {
        sample("randn", shape.into(), dtype, StandardNormal, rng)
    }

    /// Samples from the uniform distribution on `[low, high)` with the given
    /// dtype (`torch.empty(..).uniform_(low, high)`); used by initialisers.
    pub fn uniform<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        rng: &mut R,
    ) -> Result<Tensor> {
        if !(low.is_finite() && high.is_finite()) || low > high {
            return Err(Error::invalid(
                "uniform",
                format!("need finite low <= high, got low={low}, high={high}"),
            ));
        }
        let u = Tensor::rand_dtype(shape, dtype, rng);
        Ok(crate::autograd::no_grad(|| u.affine(high - low, low)))
    }
}

/// `numel` draws from `dist`, made directly in the requested precision.
#[track_caller]
fn sample<R, D>(op: &'static str, shape: Shape, dtype: DType, dist: D, rng: &mut R) -> Tensor
where
    R: Rng + ?Sized,
    D: Distribution<f32> + Distribution<f64>,
{
    or_panic(require_float(op, dtype));
    let n = or_panic(check_alloc(op, shape.dims(), dtype));
    dispatch!(dtype, T => {
        let data: Vec<T> = (0..n).map(|_| dist.sample(rng)).collect();
        Tensor::from_parts(data, shape)
    })
}

/// The product of the sizes, counting a 0 as 1: what strides and any
/// reduction of a tensor of this shape can reach. `None` on overflow or
/// beyond what a slice can index.
fn extent(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
        .filter(|&n| n <= isize::MAX as usize / 8)
}

/// Buffers at least this large are probed before an op computes into them.
const PROBE_BYTES: usize = 1 << 28;

/// Checks that a tensor of shape `dims` and type `dtype` can exist: its
/// element count and strides do not overflow and its buffer can be
/// allocated. Returns its element count.
///
/// Every op whose output can be larger than its inputs (a broadcast,
/// `expand`, `reshape`, `pad_dim`, `cat`, `matmul`, index ops, `one_hot`)
/// and every constructor calls this before computing, because a failed
/// allocation aborts the process instead of returning an error. Together
/// they keep an invariant that makes every other op safe: any tensor's
/// shape, with sizes of 0 counted as 1, fits in memory. (An empty
/// `[0, 2^40, 8]` would otherwise reduce over dim 0 into a 32 TiB tensor,
/// and an expanded view allocates nothing itself but any op on it does.)
///
/// Large sizes (256 MiB and up) are probed with a fallible reservation
/// that is released at once: the system refuses sizes it can never provide
/// (beyond its memory), and those become an error here.
pub(crate) fn check_alloc(op: &'static str, dims: &[usize], dtype: DType) -> Result<usize> {
    let too_large = |bytes: Option<usize>| {
        let size = match bytes {
            Some(b) => format!("{b} bytes"),
            None => "more bytes than the address space holds".to_string(),
        };
        Error::invalid(
            op,
            format!(
                "a {dtype} tensor of shape {} would need {size}, which cannot be allocated",
                Shape::new(dims)
            ),
        )
    };
    let bytes = extent(dims).ok_or_else(|| too_large(None))? * dtype.size_in_bytes();
    if bytes >= PROBE_BYTES && Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
        return Err(too_large(Some(bytes)));
    }
    Ok(dims.iter().product())
}

/// A ChaCha12 generator seeded from a `u64`: the same seed gives the same
/// numbers on every run, platform and version of rand.
///
/// `rand::rngs::ChaCha12Rng` is one of rand's named generators, whose
/// stream rand promises not to change ("portable"); `StdRng`, used here
/// before, is the same algorithm today but may change in any rand release.
/// For a given seed the two give the same numbers, so the switch changed no
/// initialisation. (Sampling with `rand_distr` sits on top: a new
/// `rand_distr` may in principle draw normals differently from the same
/// stream.)
///
/// ```
/// use rand::Rng;
/// let mut rng = tapegrad::seeded_rng(42);
/// // Pinned: a change here would change every seeded model and example.
/// assert_eq!(rng.next_u64(), 0x86cc_7763_2227_24a2);
/// ```
pub fn seeded_rng(seed: u64) -> rand::rngs::ChaCha12Rng {
    rand::SeedableRng::seed_from_u64(seed)
}
