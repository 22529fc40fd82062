//! `TAPEGRAD_CPU_CAPABILITY=default` keeps every kernel on its baseline
//! build (and narrow products on `matrixmultiply`). CI machines have AVX2,
//! so without this file the baseline builds of the vectorised kernels would
//! run only in their unit tests. The variable is read once per process:
//! this file is its own test binary and holds a single test, which sets it
//! before any tensor work.

use tapegrad::nn::functional as F;
use tapegrad::{seeded_rng, DType, Tensor};

#[test]
fn baseline_kernels_give_the_same_results_as_f64() {
    std::env::set_var("TAPEGRAD_CPU_CAPABILITY", "default");
    let eps = f64::from(f32::EPSILON);
    let x64 = Tensor::randn_dtype([1797, 64], DType::F64, &mut seeded_rng(1));
    let w64 = Tensor::randn_dtype([64, 10], DType::F64, &mut seeded_rng(2));
    // Start both from the same f32-representable values.
    let (x64, w64) = (
        x64.to_dtype(DType::F32).to_dtype(DType::F64),
        w64.to_dtype(DType::F32).to_dtype(DType::F64),
    );
    let (x32, w32) = (x64.to_dtype(DType::F32), w64.to_dtype(DType::F32));

    // A narrow product (matrixmultiply here): 64 terms of size ≤ ~25.
    let close = |a: &Tensor, b: &Tensor, tol: f64| {
        let (a, b) = (a.to_vec::<f64>(), b.to_vec::<f64>());
        a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= tol)
    };
    let y64 = x64.matmul(&w64);
    let y32 = x32.matmul(&w32);
    assert!(close(&y32, &y64, 64.0 * 25.0 * eps));

    // Softmax rows with the unfused exp, and cross-entropy through them.
    let p64 = y64.softmax(1);
    let p32 = y32.softmax(1);
    // Logits already differ by up to 64·25·ε; a probability moves by at most
    // that much relative, plus a sum of 10 roundings.
    assert!(close(&p32, &p64, (2.0 * 64.0 * 25.0 + 12.0) * eps));
    let ids: Vec<f32> = (0..1797).map(|i| (i % 10) as f32).collect();
    let ids = Tensor::from_vec(ids, [1797]).unwrap();
    let l32 = F::cross_entropy(&y32, &ids).unwrap().item::<f32>();
    let l64 = F::cross_entropy(&y64, &ids.to_dtype(DType::F64))
        .unwrap()
        .item::<f64>();
    assert!(
        (f64::from(l32) - l64).abs() <= l64.abs() * 1e-5,
        "{l32} vs {l64}"
    );
}
