//! # Binary logistic regression on breast-cancer biopsies
//!
//! What you will learn:
//! - how a linear score `z = w·x + b` becomes a probability with the sigmoid
//!   `σ(z) = 1 / (1 + e^(−z))`;
//! - why binary cross-entropy (BCE), `−[y·log p + (1 − y)·log(1 − p)]`, is the
//!   loss that goes with it, and what its gradient looks like (`p − y`);
//! - how full-batch gradient descent drives the loss down on 454 real
//!   biopsies, and how well the model does on 115 it never saw;
//! - why libraries offer `binary_cross_entropy_with_logits(z)`: it is the same
//!   loss, but the naive `binary_cross_entropy(sigmoid(z))` breaks down once
//!   `|z|` is large (a table shows where, in float32).
//!
//! Run it: `cargo run --release --example binary_logistic_regression`;
//! `-- --help` lists the flags (`--epochs`, `--lr`, `--seed`, `--out`, ...).

mod support;

use support::chart::report_curves;
use support::checks::Checks;
use support::epochs::EpochLog;
use support::fit::{self, Loss, LOGISTIC};
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use support::prose::{self, change};
use tapegrad::nn::functional as F;
use tapegrad::nn::Module;
use tapegrad::{Result, Tensor};

const SPEC: Spec = Spec {
    epochs: Some(LOGISTIC.epochs),
    lr: Some(LOGISTIC.lr),
    seed: Some("the initial weights"),
    out: Some("the loss curve (SVG)"),
    save_init: true,
    ..Spec::new(
        "binary_logistic_regression",
        "Logistic regression on 569 breast-cancer biopsies: a linear score squashed by the \
         sigmoid into P(benign), binary cross-entropy and its gradient p − y, full-batch \
         gradient descent, test accuracy, and why binary_cross_entropy_with_logits is the \
         stable way to compute the same loss.",
    )
};

fn main() -> Result<()> {
    let case = LOGISTIC;
    let args = Args::parse(SPEC);
    if let Some(dir) = &args.save_init {
        let path = fit::save_init(&case, args.seed, dir)?;
        println!("initial weights written to {}", path.display());
        return Ok(());
    }
    let mut nb = Notebook::new("Binary logistic regression: is this tumour benign?", &args);

    // ------------------------------------------------------------------
    nb.section("The data");
    let data = fit::load(case.dataset)?;
    let count = |labels: &Tensor, class: f32| {
        labels
            .to_vec::<f32>()
            .iter()
            .filter(|&&v| v == class)
            .count()
    };
    nb.say(&format!(
        "The Wisconsin breast-cancer data: {} biopsies, each described by {} measurements of the \
         cell nuclei seen under a microscope (radius, texture, concavity, ...). The label is 1 for \
         a benign tumour and 0 for a malignant one, and the model will predict P(benign). As \
         data/README.md prescribes, the first {} rows are for training and the other {} for \
         testing; the test rows are only used at the very end.",
        data.train.len() + data.test.len(),
        data.feature_names.len(),
        data.train.len(),
        data.test.len()
    ));
    nb.table(
        &["part", "rows", "malignant (0)", "benign (1)"],
        &[
            vec![
                "train".into(),
                data.train.len().to_string(),
                count(data.train.labels(), 0.0).to_string(),
                count(data.train.labels(), 1.0).to_string(),
            ],
            vec![
                "test".into(),
                data.test.len().to_string(),
                count(data.test.labels(), 0.0).to_string(),
                count(data.test.labels(), 1.0).to_string(),
            ],
        ],
    );
    nb.say(
        "The measurements live on very different scales (an area in the hundreds, a smoothness \
         near 0.1), so each column is standardised: subtract its training mean and divide by its \
         training standard deviation. Afterwards every feature is 'number of standard deviations \
         from the average biopsy', and one learning rate suits all the weights.",
    );
    let shown = [0usize, 1, 3, 27];
    nb.table(
        &["feature", "train mean", "train std"],
        &shown
            .iter()
            .map(|&j| {
                vec![
                    data.feature_names[j].clone(),
                    format!("{:.4}", data.scaler.mean()[j]),
                    format!("{:.4}", data.scaler.std()[j]),
                ]
            })
            .collect::<Vec<_>>(),
    );

    // ------------------------------------------------------------------
    nb.section("A linear score, squashed into a probability");
    nb.say(
        "The model gives each biopsy a score s = w·x + b: one weight per measurement plus a bias, \
         31 numbers in all. A score can be any real number, but we want a probability. The \
         sigmoid σ(s) = 1 / (1 + e^(−s)) maps the whole real line onto (0, 1): s = 0 means 50/50, \
         each unit of s multiplies the odds p/(1−p) by e ≈ 2.7.",
    );
    let zs = [-6.0f64, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0];
    let sig = F::sigmoid(&Tensor::new(zs))?.to_vec::<f64>();
    nb.table(
        &["s", "σ(s) = P(benign)", "odds p/(1−p)"],
        &zs.iter()
            .zip(&sig)
            .map(|(z, p)| {
                vec![
                    format!("{z:+.1}"),
                    format!("{p:.4}"),
                    format!("{:.3}", p / (1.0 - p)),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let model = case.model(args.seed)?;
    let p0 = F::sigmoid(&fit::logits(&*model, data.train.features())?.squeeze(1))?.to_vec::<f32>();
    let y_train = data.train.labels().to_vec::<f32>();
    nb.say(&format!(
        "The weights start small and random (PyTorch's default for a Linear layer, seed {}), so \
         the first predictions hover around 0.5 and have nothing to do with the label yet:",
        args.seed
    ));
    nb.table(
        &["train row", "label", "P(benign) before training"],
        &(0..5)
            .map(|i| {
                vec![
                    i.to_string(),
                    label_name(y_train[i]).into(),
                    format!("{:.4}", p0[i]),
                ]
            })
            .collect::<Vec<_>>(),
    );

    // ------------------------------------------------------------------
    nb.section("The loss: binary cross-entropy");
    nb.say(
        "If the model says P(benign) = p, the probability it gave to what actually happened is p \
         for a benign tumour and 1 − p for a malignant one. Binary cross-entropy is minus the log \
         of that: ℓ = −[y·log p + (1 − y)·log(1 − p)]. Averaged over the training rows, it is the \
         negative log-likelihood of the labels under the model, so minimising it is maximum \
         likelihood. The log makes a confident mistake very expensive:",
    );
    let ps = [0.99f64, 0.9, 0.5, 0.1, 0.01, 0.0001];
    nb.table(
        &[
            "P(benign) for a benign tumour",
            "loss −log p",
            "dℓ/ds = p − y",
        ],
        &ps.iter()
            .map(|&p| {
                vec![
                    format!("{p}"),
                    format!("{:.4}", -p.ln()),
                    format!("{:+.4}", p - 1.0),
                ]
            })
            .collect::<Vec<_>>(),
    );
    nb.say(
        "The last column is the reason sigmoid and BCE belong together: the derivative of the loss \
         with respect to the score s is simply p − y (the 1/(p(1−p)) from the log cancels σ'(s) = \
         p(1−p)). The gradient with respect to the weights is then the average of (p − y)·x, and a \
         step subtracts it: a benign biopsy (y = 1, p − y < 0) pulls w towards its features, a \
         malignant one (y = 0, p − y > 0) pushes w away from its features, each in proportion \
         to how wrong the model was.",
    );

    // ------------------------------------------------------------------
    nb.section("Training: full-batch gradient descent");
    nb.say(&format!(
        "Each epoch is one step: forward all {} training rows, loss = binary_cross_entropy(\
         sigmoid(s), y), backward, then w ← w − lr·∂loss/∂w with lr = {}. The line printed per \
         epoch is the loss and the training accuracy of the forward pass that step used.",
        data.train.len(),
        args.lr
    ));
    let mut optimizer = case.optimizer(&*model, args.lr)?;
    let mut log = EpochLog::new("training", &args);
    let history = fit::train(
        &*model,
        &data.train,
        Loss::BceOfSigmoid,
        &mut optimizer,
        args.epochs,
        |epoch, loss, acc| log.epoch(epoch, loss, Some(acc)),
    )?;
    match (change(&history.loss, 4), change(&history.acc, 3)) {
        (Some(loss), Some(acc)) => nb.say(&format!(
            "The loss {loss}, and the training accuracy {acc}, both measured on the forward pass \
             of each step, before its update. (ln 2 = 0.6931 is the loss of p = ½ for every \
             biopsy; the first loss sits above it by about half the spread of the random initial \
             scores, see docs/13-in-practice.md.)"
        )),
        _ => nb.say(
            "With --epochs 0 there is no training: the model keeps its random initial weights, \
             and what follows shows what an untrained model does.",
        ),
    }

    // ------------------------------------------------------------------
    nb.section("The same loss, computed from the logits");
    let z_train = fit::logits(&*model, data.train.features())?.squeeze(1);
    let naive = F::binary_cross_entropy(&F::sigmoid(&z_train)?, data.train.labels())?.item::<f64>();
    let stable = F::binary_cross_entropy_with_logits(&z_train, data.train.labels())?.item::<f64>();
    nb.say(&format!(
        "binary_cross_entropy_with_logits(s, y) is the same function of s written without ever \
         forming σ(s): ℓ = max(s, 0) − s·y + log(1 + e^(−|s|)). On the trained model the two agree: \
         {naive:.7} (naive) versus {stable:.7} (with logits), a difference of {:.1e}, which is \
         float32 rounding.",
        (naive - stable).abs()
    ));
    nb.say(
        "So why bother? Because float32 cannot store σ(s) for a large score. Take a malignant \
         tumour (y = 0) that the model scores s: the exact loss is log(1 + e^s) ≈ s and its \
         gradient is σ(s) ≈ 1. Once s > 16.6, σ(s) rounds to exactly 1.0, log(1 − p) = log 0, \
         PyTorch (and tapegrad) clamp the log at −100, and the gradient through the sigmoid is 0:",
    );
    nb.table(
        &[
            "s (y = 0)",
            "σ(s) in f32",
            "naive loss",
            "with-logits loss",
            "exact loss",
            "naive dℓ/ds",
            "stable dℓ/ds",
        ],
        &[-20.0f32, 0.0, 5.0, 10.0, 15.0, 17.0, 20.0, 50.0, 200.0]
            .iter()
            .map(|&z| stability_row(z))
            .collect::<Result<Vec<_>>>()?,
    );
    // The same run again, from the same initial weights, with the stable loss.
    let twin = case.model(args.seed)?;
    let mut twin_opt = case.optimizer(&*twin, args.lr)?;
    let twin_hist = fit::train(
        &*twin,
        &data.train,
        Loss::BceWithLogits,
        &mut twin_opt,
        args.epochs,
        |_, _, _| {},
    )?;
    let gap = history
        .loss
        .iter()
        .zip(&twin_hist.loss)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let zv = z_train.to_vec::<f32>();
    let z_max = zv.iter().fold(0.0f32, |m, z| m.max(z.abs()));
    let worst_mistake = zv
        .iter()
        .zip(&y_train)
        .filter(|(z, y)| (**z > 0.0) != (**y == 1.0))
        .fold(0.0f32, |m, (z, _)| m.max(z.abs()));
    let alike = if twin_hist.loss.is_empty() {
        "With --epochs 0 there is no training to compare; run with a few epochs to see the two \
         forms train alike."
            .to_string()
    } else {
        format!(
            "So the two forms train alike: the same {} from the same initial weights with \
             binary_cross_entropy_with_logits give a loss curve within {gap:.1e} of the one \
             above.",
            prose::count(args.epochs, "epoch")
        )
    };
    nb.say(&format!(
        "In the naive column a confidently wrong model sees the same loss of 100 whether s is 20 \
         or 200, and no gradient at all to correct itself. The with-logits form stays exact. On \
         this data scores can grow large (|s| up to {z_max:.1} for this model), but only on \
         biopsies the model gets right, where σ(s) rounding to 1 costs nothing; the most \
         confident training mistake has |s| = {worst_mistake:.1}. {alike} Still, train with the \
         with-logits form, and apply the sigmoid only when you want to read a probability."
    ));

    // ------------------------------------------------------------------
    nb.section("The test set");
    let z_test = fit::logits(&*model, data.test.features())?.squeeze(1);
    let p_test = F::sigmoid(&z_test)?.to_vec::<f32>();
    let y_test = data.test.labels().to_vec::<f32>();
    let test_acc = fit::evaluate(&*model, &data.test, Loss::BceOfSigmoid)?;
    let wrong: Vec<usize> = (0..y_test.len())
        .filter(|&i| (p_test[i] > 0.5) != (y_test[i] == 1.0))
        .collect();
    nb.say(&format!(
        "Now, once, the {} held-out biopsies. Predict benign when P(benign) > 0.5. Test accuracy: \
         {test_acc:.4} ({} of {} right, {}). A few test rows, and every mistake:",
        y_test.len(),
        y_test.len() - wrong.len(),
        y_test.len(),
        prose::count(wrong.len(), "mistake")
    ));
    let raw = data.test_raw.features().to_vec::<f32>();
    let f = data.feature_names.len();
    let mut rows: Vec<usize> = (0..6).collect();
    rows.extend(wrong.iter().copied().filter(|&i| i >= 6));
    nb.table(
        &[
            "test row",
            "mean_radius",
            "worst_concave_points",
            "P(benign)",
            "predicted",
            "truth",
            "",
        ],
        &rows
            .iter()
            .map(|&i| {
                let predicted = if p_test[i] > 0.5 { 1.0 } else { 0.0 };
                vec![
                    i.to_string(),
                    format!("{:.2}", raw[i * f]),
                    format!("{:.4}", raw[i * f + 27]),
                    format!("{:.4}", p_test[i]),
                    label_name(predicted).into(),
                    label_name(y_test[i]).into(),
                    if predicted == y_test[i] {
                        "ok"
                    } else {
                        "WRONG"
                    }
                    .into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    nb.say(
        "Which measurements matter? With standardised inputs, a weight is the change in the score \
         per standard deviation of its feature: negative weights push towards malignant.",
    );
    let w = model.named_parameters()[0].1.to_vec::<f32>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|&a, &b| w[a].total_cmp(&w[b]));
    let picks: Vec<usize> = order[..4]
        .iter()
        .chain(&order[order.len() - 4..])
        .copied()
        .collect();
    nb.table(
        &["feature", "weight"],
        &picks
            .iter()
            .map(|&j| vec![data.feature_names[j].clone(), format!("{:+.3}", w[j])])
            .collect::<Vec<_>>(),
    );

    // ------------------------------------------------------------------
    nb.section("Summary");
    report_curves(
        &nb,
        "binary_logistic_regression_loss.svg",
        "breast cancer: BCE loss",
        &[("train loss", &history.loss)],
    );
    nb.result(&format!(
        "breast_cancer logistic regression: {}, test accuracy {test_acc:.4}",
        fit::final_loss(&history)
    ));
    nb.result(&fit::compare_with_reference(
        &case, &history, args.lr, args.seed,
    ));

    let mut checks = Checks::new(&args);
    checks.loss_fell("training", &history.loss, 0.5);
    // The floor and its justification: fit::LOGISTIC.
    checks.accuracy_at_least("breast_cancer test", test_acc, case.floor);
    checks.finish();
    Ok(())
}

fn label_name(y: f32) -> &'static str {
    if y == 1.0 {
        "benign"
    } else {
        "malignant"
    }
}

/// One row of the stability table: a single logit `z` with label 0, its loss
/// and gradient computed both ways in float32, and the exact values in f64.
fn stability_row(z: f32) -> Result<Vec<String>> {
    let y = Tensor::new([0.0f32]);
    let zn = Tensor::new([z]).requires_grad_(true);
    let p = F::sigmoid(&zn)?;
    let naive = F::binary_cross_entropy(&p, &y)?;
    naive.backward();
    let zs = Tensor::new([z]).requires_grad_(true);
    let stable = F::binary_cross_entropy_with_logits(&zs, &y)?;
    stable.backward();
    let zd = z as f64;
    let exact = zd.max(0.0) + (-zd.abs()).exp().ln_1p();
    Ok(vec![
        format!("{z}"),
        format!("{:.8}", p.item::<f32>()),
        format!("{:.4}", naive.item::<f32>()),
        format!("{:.4}", stable.item::<f32>()),
        format!("{exact:.4}"),
        format!("{:.4}", zn.grad().unwrap().item::<f32>()),
        format!("{:.4}", zs.grad().unwrap().item::<f32>()),
    ])
}
