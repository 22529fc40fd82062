//! Threads: every thread has its own tape, so several threads can build
//! and train their own models (`nn::mlp`, `cross_entropy`, `optim::SGD`
//! with momentum) at the same time; each gets exactly the result it would
//! get alone. Tensors are `!Send`/`!Sync` (a compile-time
//! error to move one to another thread; see the `compile_fail` doctest on
//! `Tensor`); values cross threads as plain `Vec`s.

use tapegrad::nn::functional::cross_entropy;
use tapegrad::nn::{mlp, Activation, Module};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{no_grad, seeded_rng, tape_len, Tensor};

/// Trains an `nn::mlp` from `seed` for `steps` steps of SGD with momentum
/// on a cross-entropy loss; returns the loss curve and the final weights
/// as plain vectors (which are `Send`).
fn train(seed: u64, steps: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = seeded_rng(seed);
    let model = mlp(&[3, 8, 4], Activation::Tanh, &mut rng).unwrap();
    let x = Tensor::randn([8usize, 3], &mut rng);
    let y = Tensor::from_vec((0..8).map(|k| (k % 4) as f32).collect::<Vec<_>>(), [8usize]).unwrap();
    let cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let mut opt = SGD::new(model.parameters(), cfg).unwrap();
    let mut losses = Vec::new();
    for _ in 0..steps {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &y).unwrap();
        losses.push(loss.item::<f32>());
        loss.backward();
        assert_eq!(tape_len(), 0);
        opt.step().unwrap();
    }
    let weights = model
        .parameters()
        .iter()
        .flat_map(|p| p.to_vec::<f32>())
        .collect();
    (losses, weights)
}

#[test]
fn concurrent_training_matches_single_threaded_runs() {
    let seeds = [1u64, 2, 3, 4, 5, 6];
    let alone: Vec<_> = seeds.iter().map(|&s| train(s, 200)).collect();
    let handles: Vec<_> = seeds
        .iter()
        .map(|&s| std::thread::spawn(move || train(s, 200)))
        .collect();
    for (h, want) in handles.into_iter().zip(&alone) {
        let got = h.join().expect("no thread panicked");
        assert_eq!(&got, want, "bit-identical to the single-threaded run");
    }
    // Different seeds really are different models.
    assert_ne!(alone[0], alone[1]);
}

/// Several threads training the same seed at once: each result is
/// bit-identical to the sequential run, and the model really trained.
#[test]
fn same_seed_on_every_thread_gives_the_sequential_result() {
    let want = train(42, 150);
    assert!(
        want.0.last().unwrap() < &(want.0[0] * 0.5),
        "trains: {:?}",
        want.0
    );
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| train(42, 150)))
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("no thread panicked"), want);
    }
}

#[test]
fn one_threads_tape_does_not_see_anothers() {
    let w = Tensor::ones([2usize]).requires_grad_(true);
    let pending = w.mul_scalar(3.0).sum(); // recorded on this thread's tape
    assert_eq!(tape_len(), 3);
    let other = std::thread::spawn(|| {
        // A fresh thread starts with an empty tape and its own grad mode.
        let empty = tape_len();
        let mode = no_grad(tapegrad::is_grad_enabled);
        let (losses, _) = train(9, 3);
        (empty, mode, tapegrad::is_grad_enabled(), losses.len())
    })
    .join()
    .unwrap();
    assert_eq!(other, (0, false, true, 3));
    // This thread's graph was untouched by the other thread's backward.
    assert_eq!(tape_len(), 3);
    pending.backward();
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![3.0, 3.0]);
}

#[test]
fn data_crosses_threads_as_plain_values() {
    // The supported way to hand a tensor to another thread: its values and
    // shape, rebuilt there.
    let t = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
    let (values, dims) = (t.to_vec::<f32>(), t.dims().to_vec());
    let sum = std::thread::spawn(move || {
        Tensor::from_vec(values, dims.as_slice())
            .unwrap()
            .sum()
            .item::<f32>()
    })
    .join()
    .unwrap();
    assert_eq!(sum, 10.0);
}

#[test]
fn plain_types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<tapegrad::Shape>();
    send_sync::<tapegrad::DType>();
    send_sync::<tapegrad::Error>();
    // An error made on a worker thread can be returned to the caller.
    let err = std::thread::spawn(|| {
        Tensor::zeros([2usize])
            .try_sum_dim(3, false)
            .map(|t| t.numel())
    })
    .join()
    .unwrap();
    assert!(err.is_err());
}
