//! Errors, models, optimizers and data print readable text (issue 14,
//! items 3 and 4). Expected model and optimizer texts are PyTorch's
//! `print(...)` output for the same objects (torch 2.x), with the two
//! documented differences applied by `from_pytorch`.

use tapegrad::data::{DataLoader, Dataset};
use tapegrad::nn::{self, Activation, Dropout, LeakyReLU, Linear, Module, Sequential};
use tapegrad::optim::{Adam, AdamConfig, AdamW, SgdConfig, SGD};
use tapegrad::{seeded_rng, Error, Tensor};

/// PyTorch's text as tapegrad prints it: Rust's `true`/`false`, and without
/// the optimizer flags tapegrad does not have.
fn from_pytorch(text: &str) -> String {
    text.lines()
        .filter(|l| {
            !["capturable:", "differentiable:", "foreach:", "fused:"]
                .iter()
                .any(|k| l.trim_start().starts_with(k))
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("True", "true")
        .replace("False", "false")
}

#[test]
fn error_debug_is_the_message() {
    let err = Tensor::zeros([2, 3])
        .try_add(&Tensor::zeros([4]))
        .unwrap_err();
    let sentence = "add: shapes [2, 3] and [4] cannot be broadcast together";
    assert_eq!(err.to_string(), sentence);
    assert_eq!(format!("{err:?}"), sentence);
    assert_eq!(format!("{err:#?}"), sentence);
}

/// What `fn main() -> Result<(), tapegrad::Error>` prints when `?` returns an
/// error: the standard library writes `Error: {err:?}`.
#[test]
fn main_returning_err_and_unwrap_show_the_sentence() {
    fn user_main() -> Result<(), Error> {
        let logits = Tensor::zeros([2, 3]);
        let target = Tensor::new([0.0f32, 5.0]);
        let _loss = nn::functional::cross_entropy(&logits, &target)?;
        Ok(())
    }
    let err = user_main().unwrap_err();
    let shown = format!("Error: {err:?}");
    assert!(shown.starts_with("Error: cross_entropy: "), "{shown}");
    assert!(shown.contains("index 5 is out of range"), "{shown}");
    assert!(!shown.contains("IndexOutOfRange {"), "{shown}");

    let panic = std::panic::catch_unwind(|| user_main().unwrap()).unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.ends_with(&err.to_string()), "{text}");
}

#[test]
fn mlp_prints_as_pytorch() {
    let model = nn::mlp(&[4, 8, 3], Activation::Relu, &mut seeded_rng(0)).unwrap();
    // print(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)))
    let torch = "Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): ReLU()
  (2): Linear(in_features=8, out_features=3, bias=True)
)";
    assert_eq!(model.to_string(), from_pytorch(torch));
    // 4·8 + 8 + 8·3 + 3 parameters.
    assert_eq!(
        format!("{model:?}"),
        format!("{}\n67 parameters", from_pytorch(torch))
    );
}

#[test]
fn every_layer_and_nesting_print_as_pytorch() {
    let mut rng = seeded_rng(1);
    let model = Sequential::new()
        .append(Linear::new(4, 8, true, &mut rng))
        .append(nn::ReLU)
        .append(Dropout::new(0.5, 0).unwrap())
        .append(Linear::new(8, 3, false, &mut rng))
        .append(nn::Tanh)
        .append(nn::Sigmoid)
        .append(nn::GELU)
        .append(LeakyReLU::default())
        .append(LeakyReLU::new(0.2).unwrap())
        .append(Sequential::new().append(Linear::new(3, 2, true, &mut rng)))
        .append(Sequential::new());
    // The same model built in PyTorch and printed.
    let torch = "Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): ReLU()
  (2): Dropout(p=0.5, inplace=False)
  (3): Linear(in_features=8, out_features=3, bias=False)
  (4): Tanh()
  (5): Sigmoid()
  (6): GELU(approximate='none')
  (7): LeakyReLU(negative_slope=0.01)
  (8): LeakyReLU(negative_slope=0.2)
  (9): Sequential(
    (0): Linear(in_features=3, out_features=2, bias=True)
  )
  (10): Sequential()
)";
    assert_eq!(model.to_string(), from_pytorch(torch));
    let boxed: Box<dyn Module> = Box::new(Linear::new(2, 1, true, &mut rng));
    assert_eq!(
        boxed.to_string(),
        "Linear(in_features=2, out_features=1, bias=true)"
    );
    assert_eq!(
        format!("{:?}", Linear::new(1, 1, false, &mut rng)),
        "Linear(in_features=1, out_features=1, bias=false)\n1 parameter"
    );
}

#[test]
fn a_users_model_prints_its_children() {
    struct Net {
        body: Sequential,
        head: Linear,
    }
    impl Module for Net {
        fn try_forward(&self, x: &Tensor) -> tapegrad::Result<Tensor> {
            self.head.try_forward(&self.body.try_forward(x)?)
        }
        fn named_parameters(&self) -> Vec<(String, Tensor)> {
            let mut p = nn::prefixed("body", &self.body);
            p.extend(nn::prefixed("head", &self.head));
            p
        }
        fn repr(&self) -> String {
            nn::repr_with_children("Net", "", &[("body", &self.body), ("head", &self.head)])
        }
    }
    struct Bare;
    impl Module for Bare {
        fn try_forward(&self, x: &Tensor) -> tapegrad::Result<Tensor> {
            Ok(x.clone())
        }
    }
    let mut rng = seeded_rng(2);
    let net = Net {
        body: Sequential::new()
            .append(Linear::new(2, 4, true, &mut rng))
            .append(nn::Tanh),
        head: Linear::new(4, 1, true, &mut rng),
    };
    let torch = "Net(
  (body): Sequential(
    (0): Linear(in_features=2, out_features=4, bias=True)
    (1): Tanh()
  )
  (head): Linear(in_features=4, out_features=1, bias=True)
)";
    let as_dyn: &dyn Module = &net;
    assert_eq!(as_dyn.to_string(), from_pytorch(torch));
    assert!(format!("{as_dyn:?}").ends_with("\n17 parameters"));
    assert_eq!(Bare.repr(), "Bare()");
}

#[test]
fn optimizers_print_their_settings_as_pytorch() {
    let w = || vec![Tensor::zeros([2]).requires_grad_(true)];
    let sgd = SGD::new(
        w(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    // print(torch.optim.SGD(params, lr=0.1, momentum=0.9))
    let torch_sgd = "SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0
)";
    assert_eq!(sgd.to_string(), from_pytorch(torch_sgd));
    assert_eq!(format!("{sgd:?}"), from_pytorch(torch_sgd));

    let adam = Adam::new(w(), AdamConfig::default()).unwrap();
    // print(torch.optim.Adam(params))
    let torch_adam = "Adam (
Parameter Group 0
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    decoupled_weight_decay: False
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 0.001
    maximize: False
    weight_decay: 0
)";
    assert_eq!(adam.to_string(), from_pytorch(torch_adam));

    let adamw = AdamW::new(
        w(),
        AdamConfig {
            lr: 1.0,
            ..AdamConfig::adamw()
        },
    )
    .unwrap();
    // print(torch.optim.AdamW(params, lr=1.0))
    let torch_adamw = "AdamW (
Parameter Group 0
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    decoupled_weight_decay: True
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 1.0
    maximize: False
    weight_decay: 0.01
)";
    assert_eq!(adamw.to_string(), from_pytorch(torch_adamw));
}

#[test]
fn schedulers_show_their_settings() {
    let w = vec![Tensor::zeros([2]).requires_grad_(true)];
    let opt = SGD::new(
        w,
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let s = tapegrad::optim::StepLR::new(&opt, 30, 0.1).unwrap();
    let text = format!("{s:?}");
    assert!(
        text.starts_with("StepLR {") && text.contains("step_size: 30"),
        "{text}"
    );
    assert!(text.contains("gamma: 0.1"), "{text}");
}

#[test]
fn datasets_and_loaders_print_one_line() {
    let ds = Dataset::new(Tensor::zeros([10, 3]), Tensor::zeros([10])).unwrap();
    assert_eq!(
        ds.to_string(),
        "Dataset(len=10, features=[10, 3] float32, labels=[10] float32)"
    );
    assert_eq!(format!("{ds:?}"), ds.to_string());
    let loader = DataLoader::new(&ds, 4).unwrap().shuffle(7);
    assert_eq!(
        loader.to_string(),
        "DataLoader(batch_size=4, shuffle=true, seed=7, drop_last=false, batches=3, \
         dataset=Dataset(len=10, features=[10, 3] float32, labels=[10] float32))"
    );
    let plain = DataLoader::new(&ds, 4).unwrap().drop_last(true);
    assert!(format!("{plain:?}")
        .starts_with("DataLoader(batch_size=4, shuffle=false, drop_last=true, batches=2"));
}
