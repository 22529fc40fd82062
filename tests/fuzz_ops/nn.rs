//! The interpreter's steps for the layers above the tensor ops: losses,
//! modules, optimizers and schedulers, checkpoints, and data loading. Same
//! contract as the tensor steps: every call returns `Ok` or `Err`, never
//! panics; on top of that, a call that fails leaves the model parameters,
//! their gradients and the optimizer state exactly as they were.

use tapegrad::checkpoint;
use tapegrad::data::{
    accuracy, binary_accuracy, confusion_matrix, one_hot, parse_csv, predicted_classes,
    train_test_split, DataLoader, Dataset, Standardizer,
};
use tapegrad::nn::functional as F;
use tapegrad::nn::functional::{KlReduction, Reduction};
use tapegrad::nn::{init, mlp, Activation, Dropout, LeakyReLU, Linear, Module};
use tapegrad::optim::{
    Adam, AdamConfig, AdamW, CosineAnnealingLR, LrScheduler, Optimizer, SgdConfig, StepLR, SGD,
};
use tapegrad::{seeded_rng, Tensor};

use super::{Bytes, Machine};

/// Bit patterns of a list of tensors (values and gradients): "nothing
/// changed" means these are equal.
type StateBits = (String, Vec<(String, u64)>, Vec<(String, Vec<u64>)>);
type Snapshot = Vec<(Vec<u64>, Option<Vec<u64>>)>;

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect()
}

fn snapshot(params: &[Tensor]) -> Snapshot {
    params
        .iter()
        .map(|p| (bits(p), p.grad().map(|g| bits(&g))))
        .collect()
}

/// The optimizer state as comparable bits.
fn state_bits(opt: &dyn Optimizer) -> StateBits {
    let s = opt.state_dict();
    (
        s.kind,
        s.hyperparameters
            .into_iter()
            .map(|(k, v)| (k, v.to_bits()))
            .collect(),
        s.tensors
            .iter()
            .map(|(k, t)| (k.clone(), bits(t)))
            .collect(),
    )
}

impl Bytes<'_> {
    fn reduction(&mut self) -> Reduction {
        [Reduction::None, Reduction::Sum, Reduction::Mean][self.pick(3)]
    }
    fn ignore_index(&mut self) -> i64 {
        [-100, 0, 1, 2, -1, i64::MIN, i64::MAX][self.pick(7)]
    }
    /// Up to `max` raw bytes from the input (fewer past its end).
    fn chunk(&mut self, max: usize) -> Vec<u8> {
        let n = self.u8() as usize * max / 255;
        (0..n).map(|_| self.u8()).collect()
    }
    /// A CSV text built from tokens: mostly well formed, with missing,
    /// extra and unparsable fields mixed in.
    fn csv_text(&mut self) -> String {
        const FIELDS: [&str; 16] = [
            "1", "0", "2", "-2.5", "3e2", " 4 ", "x", "", "nan", "inf", "1e400", "-0", "7", "0.5",
            "1,2", "\"1\"",
        ];
        const NAMES: [&str; 6] = ["a", "b", "label", "", " label ", "a"];
        let cols = 1 + self.pick(4);
        let mut text: Vec<String> = vec![(0..cols)
            .map(|_| NAMES[self.pick(NAMES.len())])
            .collect::<Vec<_>>()
            .join(",")];
        for _ in 0..self.pick(6) {
            let n = if self.u8() < 220 { cols } else { self.pick(6) };
            let row: Vec<&str> = (0..n).map(|_| FIELDS[self.pick(FIELDS.len())]).collect();
            text.push(row.join(","));
        }
        let sep = if self.flag() { "\n" } else { "\r\n" };
        text.join(sep)
    }
}

impl Machine {
    /// Every loss, with random (often invalid) targets, weights,
    /// ignore_index, label smoothing and reductions.
    pub(super) fn loss(&mut self, b: &mut Bytes) {
        let (x, y) = (self.get(b), self.get(b));
        let reduction = b.reduction();
        let weight = if b.flag() { Some(self.get(b)) } else { None };
        let r = match b.pick(12) {
            0 => F::cross_entropy(&x, &y),
            1 | 2 => {
                let mut o = F::CrossEntropyOptions::default()
                    .ignore_index(b.ignore_index())
                    .reduction(reduction);
                if b.flag() {
                    o = o.label_smoothing(b.scalar());
                }
                o.weight = weight;
                F::cross_entropy_with(&x, &y, &o)
            }
            3 => F::nll_loss(&x, &y),
            4 => {
                let mut o = F::NllLossOptions::default()
                    .ignore_index(b.ignore_index())
                    .reduction(reduction);
                o.weight = weight;
                F::nll_loss_with(&x, &y, &o)
            }
            5 => F::binary_cross_entropy(&x, &y),
            6 => {
                let mut o = F::BceOptions::default().reduction(reduction);
                o.weight = weight;
                F::binary_cross_entropy_with(&x, &y, &o)
            }
            7 => F::binary_cross_entropy_with_logits(&x, &y),
            8 => {
                let mut o = F::BceWithLogitsOptions::default().reduction(reduction);
                o.weight = weight;
                if b.flag() {
                    o.pos_weight = Some(self.get(b));
                }
                F::binary_cross_entropy_with_logits_with(&x, &y, &o)
            }
            9 => F::kl_div(&x, &y),
            10 => {
                let red = [
                    KlReduction::None,
                    KlReduction::Sum,
                    KlReduction::Mean,
                    KlReduction::BatchMean,
                ][b.pick(4)];
                let o = F::KlDivOptions::default()
                    .reduction(red)
                    .log_target(b.flag());
                F::kl_div_with(&x, &y, &o)
            }
            _ => {
                let dim = b.dim();
                match b.pick(3) {
                    0 => F::softmax(&x, dim),
                    1 => F::log_softmax(&x, dim),
                    _ => F::sigmoid(&x),
                }
            }
        };
        self.push(r);
    }

    /// Layers: mlp and Linear from random (often bad) sizes and tensors,
    /// activations and dropout with random settings, forward on any
    /// operand.
    pub(super) fn module(&mut self, b: &mut Bytes) {
        match b.pick(6) {
            0 | 1 => {
                let sizes: Vec<usize> = (0..b.pick(5)).map(|_| b.size()).collect();
                let act = match b.pick(5) {
                    0 => Activation::Relu,
                    1 => Activation::Tanh,
                    2 => Activation::Sigmoid,
                    3 => Activation::Gelu,
                    _ => Activation::LeakyRelu(b.scalar()),
                };
                if let Ok(model) = mlp(&sizes, act, &mut seeded_rng(b.u8() as u64)) {
                    if model.num_parameters() <= 4096 {
                        for p in model.parameters() {
                            check_param(&p);
                        }
                        self.model = Some(Box::new(model));
                        self.optimizer = None;
                        self.scheduler = None;
                    }
                }
            }
            2 => {
                let (w, bias) = (self.get(b), self.get(b));
                let r = Linear::from_tensors(&w, b.flag().then_some(&bias));
                if let Ok(layer) = r {
                    let x = self.get(b);
                    self.push(layer.try_forward(&x));
                    if b.flag() {
                        self.model = Some(Box::new(layer));
                        self.optimizer = None;
                        self.scheduler = None;
                    }
                }
            }
            3 => {
                let x = self.get(b);
                let r = match b.pick(2) {
                    0 => LeakyReLU::new(b.scalar()).and_then(|m| m.try_forward(&x)),
                    _ => {
                        let p = b.scalar();
                        Dropout::new(p, b.u8() as u64).and_then(|mut m| {
                            if b.flag() {
                                m.eval();
                            }
                            m.try_forward(&x)
                        })
                    }
                };
                self.push(r);
            }
            4 => {
                // Initialisers on any operand (leaf or not, any rank).
                let x = self.get(b);
                let (s0, s1) = (b.scalar(), b.scalar());
                let mut rng = seeded_rng(1);
                let _ = match b.pick(5) {
                    0 => init::uniform_(&x, s0, s1, &mut rng),
                    1 => init::normal_(&x, s0, s1, &mut rng),
                    2 => init::constant_(&x, s0),
                    3 => init::xavier_uniform_(&x, s0, &mut rng),
                    _ => init::kaiming_normal_(
                        &x,
                        init::FanMode::FanOut,
                        init::Nonlinearity::LeakyRelu(s0),
                        &mut rng,
                    ),
                };
            }
            _ => {
                let Some(model) = &self.model else { return };
                let x = self.get(b);
                let r = model.try_forward(&x);
                self.push(r);
            }
        }
    }

    /// A training step: forward through the model, a loss, backward, then
    /// the optimizer's step (or just the step, or lr / grad changes).
    pub(super) fn train(&mut self, b: &mut Bytes) {
        let Some(model) = &self.model else { return };
        let params = model.parameters();
        match b.pick(5) {
            0 | 1 => {
                // Mostly a batch that fits the model, with class-id targets
                // that are mostly valid; else any operands.
                let fits = b.u8() < 192;
                let in_features = params
                    .first()
                    .map_or(1, |w| w.dims().get(1).copied().unwrap_or(1));
                let batch = b.pick(4);
                let x = if fits {
                    let v: Vec<f32> = (0..batch * in_features).map(|_| b.value() as f32).collect();
                    Tensor::from_vec(v, [batch, in_features]).unwrap()
                } else {
                    self.get(b)
                };
                let y = if fits {
                    let v: Vec<f32> = (0..batch).map(|_| b.index_value() as f32).collect();
                    Tensor::from_vec(v, [batch]).unwrap()
                } else {
                    self.get(b)
                };
                let out = model.try_forward(&x);
                if let Ok(out) = out {
                    let loss = match b.pick(3) {
                        0 => F::cross_entropy(&out, &y),
                        1 => F::binary_cross_entropy_with_logits(&out, &y),
                        _ => out.try_sub(&y).and_then(|d| d.try_square()?.try_mean()),
                    };
                    if let Ok(l) = loss {
                        if l.try_backward().is_ok() {
                            super::STATS[2].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                for p in &params {
                    check_param(p);
                }
            }
            2 => {
                // A gradient set by hand: of another operand's shape/dtype.
                if params.is_empty() {
                    return;
                }
                let p = &params[b.pick(params.len())];
                let g = if b.flag() {
                    Some(self.get(b))
                } else {
                    Some(Tensor::full_like(p, b.scalar()))
                };
                // Refused unless it has the parameter's shape and dtype.
                let _ = p.try_set_grad(g);
            }
            _ => {}
        }
        let Some(opt) = self.optimizer.as_mut() else {
            return;
        };
        let before = snapshot(opt.params());
        let state_before = state_bits(opt.as_ref());
        match b.pick(6) {
            0..=2 => {
                let r = opt.step();
                if r.is_ok() {
                    super::STATS[3].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                } else {
                    assert_eq!(
                        snapshot(opt.params()),
                        before,
                        "a failed step changed a parameter"
                    );
                    assert_eq!(
                        state_bits(opt.as_ref()),
                        state_before,
                        "a failed step changed the state"
                    );
                }
            }
            3 => {
                let lr = b.scalar();
                if opt.set_lr(lr).is_err() {
                    assert_eq!(state_bits(opt.as_ref()), state_before);
                } else {
                    assert_eq!(opt.lr().to_bits(), lr.to_bits());
                }
            }
            4 => {
                if let Some(s) = self.scheduler.as_mut() {
                    let epoch = s.last_epoch();
                    if s.step(opt.as_mut()).is_ok() {
                        let lr = opt.lr();
                        assert!(lr.is_finite() && lr >= 0.0, "scheduled lr {lr}");
                        assert_eq!(s.last_epoch(), epoch + 1);
                    } else {
                        assert_eq!(s.last_epoch(), epoch, "a failed schedule step advanced");
                        assert_eq!(state_bits(opt.as_ref()), state_before);
                    }
                }
            }
            _ => opt.zero_grad(),
        }
        for p in opt.params() {
            check_param(p);
        }
    }

    /// Optimizer and scheduler construction with random (often invalid)
    /// hyperparameters, over the model's parameters or random operands.
    pub(super) fn optimizer(&mut self, b: &mut Bytes) {
        if self.model.is_none() {
            let model = mlp(&[3, 4, 2], Activation::Tanh, &mut seeded_rng(0)).unwrap();
            self.model = Some(Box::new(model));
        }
        let params: Vec<Tensor> = match (&self.model, b.u8() < 200) {
            (Some(m), true) => m.parameters(),
            _ => (0..b.pick(4)).map(|_| self.get_leaf(b)).collect(),
        };
        let from_model = self
            .model
            .as_ref()
            .map(|m| {
                let mp = m.parameters();
                mp.len() == params.len() && mp.iter().zip(&params).all(|(a, c)| a.same_as(c))
            })
            .unwrap_or(false);
        let r: tapegrad::Result<Box<dyn Optimizer>> = match b.pick(4) {
            0 | 1 => {
                let cfg = SgdConfig {
                    lr: if b.u8() < 160 { 0.1 } else { b.scalar() },
                    momentum: [0.0, 0.9, 0.5, b.scalar()][b.pick(4)],
                    dampening: if b.flag() { 0.0 } else { b.scalar() },
                    weight_decay: if b.flag() { 0.0 } else { b.scalar() },
                    nesterov: b.flag(),
                    maximize: b.flag(),
                };
                SGD::new(params, cfg).map(|o| Box::new(o) as Box<dyn Optimizer>)
            }
            k => {
                let cfg = AdamConfig {
                    lr: if b.u8() < 160 { 0.01 } else { b.scalar() },
                    betas: if b.flag() {
                        (0.9, 0.999)
                    } else {
                        (b.scalar(), b.scalar())
                    },
                    eps: if b.flag() { 1e-8 } else { b.scalar() },
                    weight_decay: if b.flag() { 0.0 } else { b.scalar() },
                    amsgrad: b.flag(),
                    maximize: b.flag(),
                };
                if k == 2 {
                    Adam::new(params, cfg).map(|o| Box::new(o) as Box<dyn Optimizer>)
                } else {
                    AdamW::new(params, cfg).map(|o| Box::new(o) as Box<dyn Optimizer>)
                }
            }
        };
        let Ok(opt) = r else { return };
        if !from_model {
            return;
        }
        let lr = opt.lr();
        assert!(lr.is_finite() && lr > 0.0, "accepted lr {lr}");
        self.scheduler = match b.pick(3) {
            0 => StepLR::new(opt.as_ref(), b.count() as u64, b.scalar())
                .ok()
                .map(|s| Box::new(s) as Box<dyn LrScheduler>),
            1 => CosineAnnealingLR::new(opt.as_ref(), b.count() as u64, b.scalar())
                .ok()
                .map(|s| Box::new(s) as Box<dyn LrScheduler>),
            _ => None,
        };
        self.optimizer = Some(opt);
    }

    /// State dicts: a round trip into the same optimizer must succeed; a
    /// tampered one must fail without changing anything.
    pub(super) fn state_dict(&mut self, b: &mut Bytes) {
        let Some(opt) = self.optimizer.as_mut() else {
            return;
        };
        let mut state = opt.state_dict();
        let before = state_bits(opt.as_ref());
        let tampered = b.flag();
        if tampered {
            match b.pick(5) {
                0 => state.kind = ["SGD", "Adam", "AdamW", ""][b.pick(4)].to_string(),
                1 => {
                    let keys: Vec<String> = state.hyperparameters.keys().cloned().collect();
                    if !keys.is_empty() {
                        let k = &keys[b.pick(keys.len())];
                        state.hyperparameters.insert(k.clone(), b.scalar());
                    }
                }
                2 => {
                    if !state.tensors.is_empty() {
                        let k = b.pick(state.tensors.len());
                        state.tensors.remove(k);
                    }
                }
                3 => {
                    let name = [
                        "0.momentum_buffer",
                        "0.exp_avg",
                        "0.step",
                        "9.exp_avg",
                        "x",
                        "-1.step",
                    ][b.pick(6)];
                    let t = self
                        .stack
                        .first()
                        .cloned()
                        .unwrap_or_else(|| Tensor::scalar(1.0f32));
                    state.tensors.push((name.to_string(), t));
                }
                _ => {
                    if !state.tensors.is_empty() {
                        let k = b.pick(state.tensors.len());
                        state.tensors[k].1 = self
                            .stack
                            .last()
                            .cloned()
                            .unwrap_or_else(|| Tensor::scalar(1.0f32));
                    }
                }
            }
        }
        let r = opt.load_state_dict(&state);
        if !tampered {
            assert!(
                r.is_ok(),
                "a state dict does not load into its own optimizer: {r:?}"
            );
        }
        if r.is_err() {
            assert_eq!(
                state_bits(opt.as_ref()),
                before,
                "a failed load_state_dict changed the state"
            );
        }
    }

    /// Checkpoints: raw fuzz bytes as a file, or a saved checkpoint that is
    /// then truncated or has a byte overwritten, loaded into the model or
    /// the optimizer. A failed load changes nothing; an untouched file loads.
    pub(super) fn checkpoint(&mut self, b: &mut Bytes) {
        let path = self.temp_path();
        let Some(model) = &self.model else {
            // No model: the file must still be refused or read without panic.
            let bytes = b.chunk(512);
            std::fs::write(&path, &bytes).unwrap();
            let empty = tapegrad::nn::Sequential::new();
            let _ = checkpoint::load(&empty, &path);
            return;
        };
        let for_optimizer = self.optimizer.is_some() && b.flag();
        let mut untouched = false;
        match b.pick(4) {
            0 => {
                let bytes = b.chunk(1024);
                std::fs::write(&path, &bytes).unwrap();
            }
            1 => {
                // Missing file.
                let _ = std::fs::remove_file(&path);
            }
            _ => {
                let saved = if for_optimizer {
                    checkpoint::save_optimizer(self.optimizer.as_deref().unwrap(), &path)
                } else {
                    checkpoint::save(model.as_ref(), &path)
                };
                saved.expect("saving to a temp file works");
                let mut bytes = std::fs::read(&path).unwrap();
                match b.pick(4) {
                    0 => untouched = true,
                    1 => {
                        let at = (b.u8() as usize * 256 + b.u8() as usize) % (bytes.len() + 1);
                        bytes.truncate(at);
                    }
                    _ => {
                        if !bytes.is_empty() {
                            let at = (b.u8() as usize * 256 + b.u8() as usize) % bytes.len();
                            bytes[at] = b.u8();
                        }
                    }
                }
                std::fs::write(&path, &bytes).unwrap();
            }
        }
        if for_optimizer {
            let opt = self.optimizer.as_mut().unwrap();
            let before = state_bits(opt.as_ref());
            let params = snapshot(opt.params());
            let r = checkpoint::load_optimizer(opt.as_mut(), &path);
            if untouched {
                assert!(
                    r.is_ok(),
                    "an optimizer checkpoint does not load back: {r:?}"
                );
                assert_eq!(state_bits(opt.as_ref()), before, "reloaded state differs");
            } else if r.is_err() {
                assert_eq!(
                    state_bits(opt.as_ref()),
                    before,
                    "a failed load_optimizer changed the state"
                );
            }
            assert_eq!(
                snapshot(opt.params()),
                params,
                "load_optimizer changed a parameter"
            );
        } else {
            let params = model.parameters();
            let before = snapshot(&params);
            let r = checkpoint::load(model.as_ref(), &path);
            if r.is_ok() {
                super::STATS[4].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if untouched {
                assert!(r.is_ok(), "a model checkpoint does not load back: {r:?}");
            }
            if untouched || r.is_err() {
                assert_eq!(
                    snapshot(&params),
                    before,
                    "a failed or identity load changed the model"
                );
            }
            for p in &params {
                check_param(p);
            }
        }
    }

    /// CSV parsing of fuzz bytes or of token-built text, then the dataset,
    /// loader, split and standardizer over the result.
    pub(super) fn data(&mut self, b: &mut Bytes) {
        let text = if b.flag() {
            String::from_utf8_lossy(&b.chunk(256)).into_owned()
        } else {
            b.csv_text()
        };
        let label = ["label", "a", "b", ""][b.pick(4)];
        let Ok(table) = parse_csv(&text, label, b.dtype()) else {
            return;
        };
        assert_eq!(table.features.ndim(), 2);
        assert_eq!(table.labels.dims(), &table.features.dims()[..1]);
        assert_eq!(table.feature_names.len(), table.features.dims()[1]);
        let Ok(ds) = table.dataset() else { return };
        if let Ok(loader) = DataLoader::new(&ds, b.count()) {
            let loader = loader.shuffle(b.u8() as u64).drop_last(b.flag());
            let n = loader.num_batches();
            let mut seen = 0;
            for (x, y) in loader.epoch(b.u8() as u64).take(64) {
                assert_eq!(x.dims()[0], y.dims()[0]);
                seen += 1;
            }
            assert!(seen == n || seen == 64, "{seen} batches of {n}");
        }
        let _ = train_test_split(&ds, b.scalar(), 3);
        if let Ok(s) = Standardizer::fit(ds.features()) {
            let x = self.get(b);
            self.push(s.transform(&x));
            self.push(s.transform(ds.features()));
        }
        self.push(Ok(ds.features().clone()));
    }

    /// Datasets and metrics on random operands.
    pub(super) fn metrics(&mut self, b: &mut Bytes) {
        let (x, y) = (self.get(b), self.get(b));
        match b.pick(7) {
            0 => self.push(predicted_classes(&x)),
            1 => {
                let _ = accuracy(&x, &y);
            }
            2 => {
                let _ = binary_accuracy(&x, &y, b.scalar());
            }
            3 => {
                if let Ok(cm) = confusion_matrix(&x, &y, b.count()) {
                    assert_eq!(cm.rows().len(), cm.num_classes());
                }
            }
            4 => self.push(one_hot(&x, b.count(), b.dtype())),
            _ => {
                if let Ok(ds) = Dataset::new(x, y) {
                    let idx: Vec<usize> = (0..b.pick(4)).map(|_| b.count()).collect();
                    let _ = ds.select(&idx);
                    let _ = ds.split_at(b.count());
                    let _ = ds.map_features(|f| f.try_mul_scalar(2.0));
                }
            }
        }
    }
}

/// A parameter stays a leaf that requires grad, whatever happened.
fn check_param(p: &Tensor) {
    assert!(p.is_leaf() && p.requires_grad(), "a parameter stays a leaf");
}
