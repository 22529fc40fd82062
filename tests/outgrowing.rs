//! docs/outgrowing.md's claim: a tapegrad checkpoint loads into the same
//! PyTorch architecture and gives the same outputs.
//!
//! Always: the file holds exactly PyTorch's state-dict names and shapes.
//! With `TAPEGRAD_TORCH_PYTHON` set to a Python that has torch and
//! safetensors, the page's Python snippet is run on the file and its
//! outputs compared with tapegrad's.

use std::collections::BTreeMap;

use tapegrad::nn::{mlp, Activation, Module};
use tapegrad::{checkpoint, seeded_rng, Tensor};

#[test]
fn checkpoint_is_a_pytorch_state_dict() {
    let dir = std::env::temp_dir().join(format!("tapegrad-outgrowing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = mlp(&[4, 8, 3], Activation::Relu, &mut seeded_rng(0)).unwrap();
    let model_path = dir.join("model.safetensors");
    checkpoint::save(&model, &model_path).unwrap();

    let saved = checkpoint::read_tensors(&model_path).unwrap();
    let shapes: Vec<(&str, &[usize])> = saved.iter().map(|(k, t)| (k.as_str(), t.dims())).collect();
    // nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).state_dict()
    let torch: Vec<(&str, &[usize])> = vec![
        ("0.bias", &[8]),
        ("0.weight", &[8, 4]),
        ("2.bias", &[3]),
        ("2.weight", &[3, 8]),
    ];
    assert_eq!(shapes, torch);

    let x = Tensor::randn([5, 4], &mut seeded_rng(1));
    let y = model.forward(&x);
    let io_path = dir.join("io.safetensors");
    checkpoint::write_tensors(
        &io_path,
        &BTreeMap::from([("x".into(), x), ("y".into(), y)]),
    )
    .unwrap();

    if let Ok(python) = std::env::var("TAPEGRAD_TORCH_PYTHON") {
        let script = format!(
            r#"
import torch
from torch import nn
from safetensors.torch import load_file
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
model.load_state_dict(load_file({model:?}))
io = load_file({io:?})
with torch.no_grad():
    err = (model(io["x"]) - io["y"]).abs().max().item()
print(err)
assert err < 1e-6, err
"#,
            model = model_path.display().to_string(),
            io = io_path.display().to_string(),
        );
        let out = std::process::Command::new(python)
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
