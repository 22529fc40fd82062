//! safetensors checkpoints: round trip, PyTorch-written files, and every
//! bad-file case leaving the model untouched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tapegrad::nn::{mlp, Activation, Module, Sequential};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use tapegrad::{checkpoint, seeded_rng, Error, Result, Tensor};

/// A fresh directory per test.
fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tapegrad-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A module that is just a list of named tensors: writes arbitrary files.
struct Named(Vec<(String, Tensor)>);

impl Module for Named {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.0.clone()
    }
}

fn net(seed: u64) -> Sequential {
    mlp(&[4, 5, 3], Activation::Relu, &mut seeded_rng(seed)).unwrap()
}

fn bits(model: &dyn Module) -> Vec<(String, Vec<u64>)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn round_trip_is_bit_identical() {
    let dir = tmp_dir("roundtrip");
    let path = dir.join("model.safetensors");
    let a = net(1);
    // Train a little so the weights are not just the initialisation.
    let mut opt = SGD::new(
        a.parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let x = Tensor::randn([7, 4], &mut seeded_rng(5));
    for _ in 0..3 {
        opt.zero_grad();
        a.forward(&x).square().mean().backward();
        opt.step().unwrap();
    }
    checkpoint::save(&a, &path).unwrap();
    let b = net(2);
    assert_ne!(bits(&a), bits(&b));
    checkpoint::load(&b, &path).unwrap();
    assert_eq!(bits(&a), bits(&b));
    let (ya, yb) = (a.forward(&x).to_vec::<f32>(), b.forward(&x).to_vec::<f32>());
    assert!(ya.iter().zip(&yb).all(|(p, q)| p.to_bits() == q.to_bits()));
    // Loading overwrote values in place: b's parameters are still b's leaves.
    assert!(b
        .parameters()
        .iter()
        .all(|p| p.is_leaf() && p.requires_grad()));

    // float64 models round-trip too.
    let w = Tensor::randn([3, 2], &mut seeded_rng(0))
        .double()
        .requires_grad_(true);
    let m = Named(vec![("w".into(), w.clone())]);
    checkpoint::save(&m, dir.join("f64.safetensors")).unwrap();
    let m2 = Named(vec![(
        "w".into(),
        Tensor::zeros([3, 2]).double().requires_grad_(true),
    )]);
    checkpoint::load(&m2, dir.join("f64.safetensors")).unwrap();
    assert_eq!(bits(&m), bits(&m2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loads_a_pytorch_checkpoint_and_predicts_the_same() {
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/torch_mlp.json").unwrap())
            .unwrap();
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let model = net(0);
    checkpoint::load(&model, "tests/fixtures/torch_mlp.safetensors").unwrap();
    let x = Tensor::from_vec(floats(&fx["x"]), [6, 4]).unwrap().float();
    let got = model.forward(&x).to_vec::<f64>();
    let expected = floats(&fx["y"]);
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-6, "{g} vs PyTorch {e}");
    }
}

fn assert_load_fails(model: &Sequential, path: &Path, must_contain: &[&str]) -> Error {
    let before = bits(model);
    let err = checkpoint::load(model, path).unwrap_err();
    let msg = err.to_string();
    for m in must_contain {
        assert!(msg.contains(m), "error {msg:?} should mention {m:?}");
    }
    assert_eq!(
        bits(model),
        before,
        "a failed load changed the parameters ({msg})"
    );
    err
}

#[test]
fn bad_files_are_errors_and_leave_the_model_unchanged() {
    let dir = tmp_dir("bad");
    let model = net(7);
    let good = dir.join("good.safetensors");
    checkpoint::save(&net(8), &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    // Missing file.
    let e = assert_load_fails(&model, &dir.join("nope.safetensors"), &["nope.safetensors"]);
    assert!(matches!(e, Error::Io { .. }));

    // Truncated: the last bytes of the data are gone.
    let p = dir.join("truncated.safetensors");
    std::fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
    let e = assert_load_fails(&model, &p, &["truncated or corrupted"]);
    assert!(matches!(e, Error::Format { .. }));
    // Truncated inside the header, and empty.
    std::fs::write(&p, &bytes[..20]).unwrap();
    assert_load_fails(&model, &p, &["truncated or corrupted"]);
    std::fs::write(&p, b"").unwrap();
    assert_load_fails(&model, &p, &["truncated or corrupted"]);

    // Corrupted header.
    let p = dir.join("corrupt.safetensors");
    let mut bad = bytes.clone();
    for b in &mut bad[8..40] {
        *b = b'#';
    }
    std::fs::write(&p, &bad).unwrap();
    assert_load_fails(&model, &p, &["truncated or corrupted"]);
    // A header length that points past the end of the file.
    let mut bad = bytes.clone();
    bad[..8].copy_from_slice(&(1u64 << 20).to_le_bytes());
    std::fs::write(&p, &bad).unwrap();
    assert_load_fails(&model, &p, &["truncated or corrupted"]);

    let params = model.named_parameters();
    let like = |skip: &str| -> Vec<(String, Tensor)> {
        params
            .iter()
            .filter(|(n, _)| n != skip)
            .map(|(n, t)| (n.clone(), t.detach().contiguous()))
            .collect()
    };

    // Missing tensor.
    let p = dir.join("missing.safetensors");
    checkpoint::save(&Named(like("2.bias")), &p).unwrap();
    let e = assert_load_fails(&model, &p, &["missing tensor '2.bias'"]);
    assert!(matches!(e, Error::Format { .. }));

    // Extra tensor.
    let p = dir.join("extra.safetensors");
    let mut extra = like("");
    extra.push(("2.scale".into(), Tensor::ones([3])));
    checkpoint::save(&Named(extra), &p).unwrap();
    assert_load_fails(&model, &p, &["unexpected tensor '2.scale'"]);

    // Wrong shape (a transposed weight).
    let p = dir.join("shape.safetensors");
    let mut wrong = like("0.weight");
    wrong.push(("0.weight".into(), Tensor::zeros([4, 5])));
    checkpoint::save(&Named(wrong), &p).unwrap();
    assert_load_fails(&model, &p, &["'0.weight'", "shape [4, 5]", "[5, 4]"]);

    // Wrong dtype.
    let p = dir.join("dtype.safetensors");
    let mut wrong = like("2.weight");
    wrong.push(("2.weight".into(), Tensor::zeros([3, 5]).double()));
    checkpoint::save(&Named(wrong), &p).unwrap();
    assert_load_fails(&model, &p, &["'2.weight'", "float64", "float32"]);

    // A dtype tapegrad does not hold (float16, as PyTorch's .half() writes).
    let p = dir.join("f16.safetensors");
    let half = vec![0u8; 2 * 5];
    let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> = Vec::new();
    let encoded: Vec<(String, Vec<u8>, Vec<usize>)> = like("0.bias")
        .into_iter()
        .map(|(n, t)| {
            (
                n,
                t.to_vec::<f32>()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                t.dims().to_vec(),
            )
        })
        .collect();
    for (n, b, d) in &encoded {
        views.push((
            n.clone(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, d.clone(), b).unwrap(),
        ));
    }
    views.push((
        "0.bias".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F16, vec![5], &half).unwrap(),
    ));
    std::fs::write(
        &p,
        safetensors::serialize(views, None::<HashMap<String, String>>).unwrap(),
    )
    .unwrap();
    assert_load_fails(&model, &p, &["'0.bias'", "F16"]);

    // The good file still loads after all that.
    checkpoint::load(&model, &good).unwrap();
    assert_eq!(bits(&model), bits(&net(8)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_is_atomic_and_cleans_up() {
    let dir = tmp_dir("atomic");
    let path = dir.join("m.safetensors");
    checkpoint::save(&net(1), &path).unwrap();
    checkpoint::save(&net(2), &path).unwrap(); // replaces the old file
    let loaded = net(3);
    checkpoint::load(&loaded, &path).unwrap();
    assert_eq!(bits(&loaded), bits(&net(2)));
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        entries,
        vec![std::ffi::OsString::from("m.safetensors")],
        "no temporary file left"
    );

    // The target is a directory: the rename fails, the temp file is removed.
    let target = dir.join("a_dir");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let e = checkpoint::save(&net(1), &target).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            std::ffi::OsString::from("a_dir"),
            std::ffi::OsString::from("m.safetensors")
        ]
    );

    // A missing directory is an Io error naming the path.
    let e = checkpoint::save(&net(1), dir.join("no/such/dir/m.safetensors")).unwrap_err();
    assert!(e.to_string().contains("no/such/dir"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn optimizer_state_file_round_trip_and_errors() {
    let dir = tmp_dir("optim");
    let x = Tensor::randn([5, 4], &mut seeded_rng(1));
    let train = |m: &Sequential, o: &mut dyn Optimizer, steps: usize| {
        for _ in 0..steps {
            o.zero_grad();
            m.forward(&x).square().mean().backward();
            o.step().unwrap();
        }
    };
    let cfg = AdamConfig {
        lr: 0.01,
        amsgrad: true,
        ..Default::default()
    };
    // Reference: 4 steps in one go.
    let a = net(1);
    let mut oa = Adam::new(a.parameters(), cfg).unwrap();
    train(&a, &mut oa, 4);
    // 2 steps, save both files, restore into fresh objects, 2 more steps.
    let b = net(1);
    let mut ob = Adam::new(b.parameters(), cfg).unwrap();
    train(&b, &mut ob, 2);
    checkpoint::save(&b, dir.join("m.safetensors")).unwrap();
    checkpoint::save_optimizer(&ob, dir.join("m.optim.safetensors")).unwrap();
    let c = net(9);
    let mut oc = Adam::new(c.parameters(), AdamConfig::default()).unwrap();
    checkpoint::load(&c, dir.join("m.safetensors")).unwrap();
    checkpoint::load_optimizer(&mut oc, dir.join("m.optim.safetensors")).unwrap();
    assert_eq!(oc.config(), &cfg);
    train(&c, &mut oc, 2);
    assert_eq!(bits(&a), bits(&c));

    // A weights file is not an optimizer file; an SGD cannot take Adam state.
    let e = checkpoint::load_optimizer(&mut oc, dir.join("m.safetensors")).unwrap_err();
    assert!(e.to_string().contains("not an optimizer state file"), "{e}");
    let mut sgd = SGD::new(c.parameters(), SgdConfig::default()).unwrap();
    let e = checkpoint::load_optimizer(&mut sgd, dir.join("m.optim.safetensors")).unwrap_err();
    assert!(e.to_string().contains("Adam optimizer, not SGD"), "{e}");
    // State for a different model (other shapes) is rejected, naming the tensor.
    let other = mlp(&[4, 6, 3], Activation::Relu, &mut seeded_rng(0)).unwrap();
    let mut oo = Adam::new(other.parameters(), cfg).unwrap();
    let e = checkpoint::load_optimizer(&mut oo, dir.join("m.optim.safetensors")).unwrap_err();
    assert!(
        e.to_string().contains("'0.exp_avg") && e.to_string().contains("shape"),
        "{e}"
    );
    assert_eq!(oo.step_count(0), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
