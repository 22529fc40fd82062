//! # Linear regression on the diabetes data: gradient descent meets least squares
//!
//! What you will learn:
//! - the mean squared error, `mean((ŷ − y)²)`, its gradient `2(ŷ − y)/n`,
//!   and why a prediction of shape `[N, 1]` against a target of shape `[N]`
//!   is refused (PyTorch would silently broadcast it to `[N, N]`);
//! - full-batch gradient descent on a linear model, the loss falling;
//! - the same model in closed form: the normal equations `AᵀA w = Aᵀy`,
//!   solved with a small Cholesky factorisation, and how gradient descent
//!   converges to exactly that solution;
//! - why it needs many epochs to get there (the curvature of the loss: the
//!   largest eigenvalue limits the learning rate, the smallest sets the pace);
//! - what a small MLP gains on the same data, measured on the test rows.
//!
//! Run it: `cargo run --release --example linear_regression`; `-- --help`
//! lists the flags. `--epochs` and `--lr` are gradient descent's; the MLPs
//! train for half as many epochs with Adam at a fixed lr of 0.01, and
//! `--seed` seeds them.

mod support;

use std::path::PathBuf;

use support::chart::report_curves;
use support::checks::Checks;
use support::epochs::{EpochLog, Progress};
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use support::prose::count;
use tapegrad::data::{read_csv, Standardizer};
use tapegrad::nn::functional as F;
use tapegrad::nn::{Linear, Module, ReLU, Sequential};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use tapegrad::{no_grad, seeded_rng, DType, Result, Tensor};

/// Training rows (`data/README.md`): the first 353, the other 89 are test.
const N_TRAIN: usize = 353;
/// Full-batch gradient descent: 2000 epochs at lr 0.2 bring the weights
/// within 0.05 % of the least-squares solution (section 5 explains why it
/// takes that many); `--quick` runs a quarter of them.
const EPOCHS: usize = 2000;
const LR: f64 = 0.2;
/// The MLP: one hidden layer of this width, Adam at this learning rate.
const HIDDEN: usize = 32;
const MLP_LR: f64 = 0.01;
/// MLPs trained from different seeds, to show the spread.
const MLP_SEEDS: u64 = 3;

const SPEC: Spec = Spec {
    epochs: Some(EPOCHS),
    lr: Some(LR),
    seed: Some("the initial weights of the three MLPs, which use N, N + 1 and N + 2"),
    out: Some("the two charts (SVG)"),
    ..Spec::new(
        "linear_regression",
        "Linear regression on 442 diabetes patients: the mean squared error and its gradient, \
         full-batch gradient descent converging to the least-squares solution of the normal \
         equations (Cholesky), why it takes many epochs (the curvature), and a small MLP \
         measured against it on the test rows. --epochs and --lr set gradient descent; the \
         MLPs train for half as many epochs (rounded up) with Adam at lr 0.01.",
    )
};

fn main() -> Result<()> {
    let args = Args::parse(SPEC);
    let mut nb = Notebook::new(
        "Linear regression: gradient descent meets least squares",
        &args,
    );

    // ------------------------------------------------------------------
    nb.section("The data: diabetes progression from ten measurements");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/diabetes.csv");
    let table = read_csv(&path, "target", DType::F64)?;
    let (train_raw, test_raw) = table.dataset()?.split_at(N_TRAIN)?;
    let scaler = Standardizer::fit(train_raw.features())?;
    let x_train = scaler.transform(train_raw.features())?;
    let x_test = scaler.transform(test_raw.features())?;
    let (n_train, n_test) = (train_raw.len(), test_raw.len());
    // Targets as columns, the shape of the model's output.
    let y_train = train_raw.labels().try_reshape([n_train, 1])?;
    let y_test = test_raw.labels().try_reshape([n_test, 1])?;
    nb.say(&format!(
        "442 diabetes patients (Efron et al., 2004): age, sex, body mass index, blood pressure \
         and six blood serum measurements, and the target, a measure of how far the disease \
         progressed one year later (25 to 346). The first {n_train} rows train, the last \
         {n_test} test. Each feature is standardised with the training rows' mean and \
         standard deviation (the test rows use the same numbers, so nothing about them leaks \
         into training); the target keeps its units, so errors read in progression points."
    ));
    let rows: Vec<Vec<String>> = table
        .feature_names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            vec![
                name.clone(),
                format!("{:.3}", scaler.mean()[j]),
                format!("{:.3}", scaler.std()[j]),
            ]
        })
        .collect();
    nb.table(&["feature", "train mean", "train std"], &rows);
    let (y_mean, y_var) = mean_var(&y_train.to_vec::<f64>());
    nb.say(&format!(
        "Training target: mean {y_mean:.2}, variance {y_var:.1} (std {:.1}). A model that \
         always predicts the mean has a mean squared error equal to that variance; R² = 1 − \
         MSE/variance measures how much of it a model explains.",
        y_var.sqrt()
    ));

    // ------------------------------------------------------------------
    nb.section("The loss: mean squared error");
    nb.say(
        "A linear model predicts ŷ = x·w + b. The loss is the mean squared error over the n \
         training rows, ℓ = (1/n) Σ (ŷ − y)², F::mse_loss in tapegrad as in PyTorch. Its \
         gradient with respect to each prediction is 2(ŷ − y)/n: each prediction is pulled \
         towards its target in proportion to how far off it is. The tape computes exactly that:",
    );
    let yhat = Tensor::new([[150.0f64], [80.0], [210.0]]).requires_grad_(true);
    let y3 = Tensor::new([[151.0f64], [75.0], [141.0]]);
    let loss = F::mse_loss(&yhat, &y3)?;
    loss.try_backward()?;
    let by_hand: Vec<f64> = [(150.0, 151.0), (80.0, 75.0), (210.0, 141.0)]
        .iter()
        .map(|(p, t)| 2.0 * (p - t) / 3.0)
        .collect();
    nb.table(
        &["ŷ", "y", "loss", "tape ∂ℓ/∂ŷ", "2(ŷ − y)/n"],
        &[vec![
            "[150, 80, 210]".into(),
            "[151, 75, 141]".into(),
            format!("{:.2}", loss.item::<f64>()),
            fmt_list(&yhat.grad().unwrap().to_vec::<f64>(), 3),
            fmt_list(&by_hand, 3),
        ]],
    );
    let flat_target = train_raw.labels();
    let pitfall = F::mse_loss(&Tensor::zeros_like(&y_train), flat_target)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    nb.say(&format!(
        "One trap: the model outputs a column [n, 1], the CSV gives the target as [n]. PyTorch \
         broadcasts the pair to [n, n] (with a warning) and averages n² meaningless \
         differences. tapegrad refuses: \"{pitfall}\". So the target is reshaped to [n, 1] once, \
         above."
    ));

    // ------------------------------------------------------------------
    nb.section("Gradient descent");
    nb.say(&format!(
        "The model starts at w = 0, b = 0 and takes {} w ← w − lr·∂ℓ/∂w at lr = {} \
         (optim::SGD without momentum). Every step sees all {n_train} training rows, so the \
         loss is the same function at every step and it can only go down if lr is small \
         enough (section 5 says how small).",
        count(args.epochs, "full-batch step"),
        args.lr
    ));
    let features = x_train.dims()[1];
    let model = Linear::from_tensors(
        &Tensor::full_dtype([1, features], 0.0, DType::F64),
        Some(&Tensor::full_dtype([1], 0.0, DType::F64)),
    )?;
    let w_start = flat_params(&model);
    let gd_losses = train_gd(&model, &x_train, &y_train, &args)?;
    let gd_w = flat_params(&model);
    // Each loss is measured before its step, so the first one is that of
    // w = 0, b = 0, whatever the learning rate.
    nb.say(&match gd_losses.as_slice() {
        [] => "With --epochs 0 gradient descent takes no step: the weights stay at 0 and every \
               prediction is 0."
            .to_string(),
        [first] => format!(
            "The training MSE of the one step's forward pass is {first:.1} (predicting 0 for \
             everyone); what the step did shows in the weights below."
        ),
        [first, .., last] if last < first => format!(
            "The training MSE fell from {first:.1} (predicting 0 for everyone) to {last:.3}."
        ),
        [first, .., last] => format!(
            "The training MSE went from {first:.1} (predicting 0 for everyone) to {last:.3e}: \
             it did not fall, so lr = {} is too large for this loss (section 5 says why).",
            args.lr
        ),
    });

    // ------------------------------------------------------------------
    nb.section("The closed form: the normal equations");
    nb.say(
        "For a linear model the minimum can also be written down. Append a column of ones to \
         the features, A = [X, 1], so that ŷ = A·θ with θ = (w, b). The gradient of the MSE is \
         (2/n)·Aᵀ(Aθ − y); it is zero where AᵀA θ = Aᵀy, the normal equations. AᵀA is symmetric \
         and, when no feature is a combination of the others, positive definite: it factors as \
         L·Lᵀ with L lower triangular (Cholesky), and two triangular solves give θ. Here AᵀA \
         is 11×11, built with tapegrad's matmul in f64; the factorisation is a dozen lines.",
    );
    let a_train = with_ones(&x_train)?;
    let a_test = with_ones(&x_test)?;
    let ata = a_train.try_t()?.try_matmul(&a_train)?;
    let aty = a_train.try_t()?.try_matmul(&y_train)?;
    let p = ata.dims()[0];
    let Some(chol) = cholesky(&ata.to_vec::<f64>(), p) else {
        fail("AᵀA is not positive definite: a feature is a combination of the others");
    };
    let cf_w = cholesky_solve(&chol, &aty.to_vec::<f64>(), p);
    let mut names: Vec<String> = table.feature_names.clone();
    names.push("bias".into());
    let rows: Vec<Vec<String>> = (0..p)
        .map(|j| {
            vec![
                names[j].clone(),
                format!("{:.4}", gd_w[j]),
                format!("{:.4}", cf_w[j]),
                format!("{:.2e}", (gd_w[j] - cf_w[j]).abs()),
            ]
        })
        .collect();
    nb.say(&format!(
        "The weights side by side (per standardised feature, so in progression points per \
         training standard deviation), after {} of gradient descent:",
        count(args.epochs, "epoch")
    ));
    nb.table(
        &["", "gradient descent", "closed form", "|difference|"],
        &rows,
    );
    let gd_fit = Fit::measure(&gd_w, &a_train, &y_train, &a_test, &y_test)?;
    let cf_fit = Fit::measure(&cf_w, &a_train, &y_train, &a_test, &y_test)?;
    let mut rows = vec![
        fit_row("gradient descent", &gd_fit),
        fit_row("closed form (least squares)", &cf_fit),
    ];
    let constant = |n: usize| Tensor::full_dtype([n, 1], y_mean, DType::F64);
    let mean_fit = Fit::from_predictions(&constant(n_train), &y_train, &constant(n_test), &y_test)?;
    rows.push(fit_row("always predict the train mean", &mean_fit));
    nb.table(
        &["model", "train MSE", "test MSE", "train R²", "test R²"],
        &rows,
    );
    let (w_dist, w_norm) = (distance(&gd_w, &cf_w), distance(&w_start, &cf_w));
    // Close enough that no test-set conclusion changes: the test MSEs differ
    // by less than a tenth of the standard error of the test MSE itself
    // (0.1 × ≈414 here; --quick's 500 epochs leave a gap of ≈12, the
    // default run ≈0.12). The same criterion is the third claim below.
    let se = cf_fit.test_se;
    let test_gap = (gd_fit.test_mse - cf_fit.test_mse).abs();
    let arrived = test_gap <= 0.1 * se;
    let excess_share = (gd_fit.train_mse - cf_fit.train_mse) / cf_fit.train_mse;
    let fell = matches!(gd_losses.as_slice(), [first, .., last] if last < first);
    let verdict = if arrived {
        format!(
            "Gradient descent found the least-squares solution: its weights are within {:.2e} \
             of it (relative distance {:.2e}), and its training MSE is above the minimum by \
             {excess_share:.2e} of it.",
            w_dist,
            w_dist / w_norm,
        )
    } else if gd_losses.len() >= 2 && !fell {
        let where_now = if w_dist.is_finite() {
            format!("its weights are {w_dist:.2e} from the least-squares solution")
        } else {
            "its weights overflowed and are no longer finite numbers".to_string()
        };
        format!(
            "Gradient descent diverged at lr = {} (section 5 says why): {where_now}.",
            args.lr
        )
    } else {
        format!(
            "Gradient descent has not reached the least-squares solution after {}: its weights \
             are still {:.2e} from it (relative distance {:.2e}), and its training MSE is above \
             the minimum by {excess_share:.2e} of it (section 5 says why it needs many epochs).",
            count(args.epochs, "epoch"),
            w_dist,
            w_dist / w_norm,
        )
    };
    nb.say(&format!(
        "{verdict} The closed form is the exact minimum of the training loss, so no linear \
         model does better on the training rows; R² on the test rows ({:.3}) is R² = 1 − \
         MSE/variance with the test rows' own variance, as sklearn's r2_score computes it.",
        cf_fit.test_r2
    ));

    // ------------------------------------------------------------------
    nb.section("Why so many epochs: the curvature");
    // The MSE is quadratic in θ with Hessian H = (2/n)·AᵀA, constant.
    let hessian: Vec<f64> = ata
        .to_vec::<f64>()
        .iter()
        .map(|v| 2.0 * v / n_train as f64)
        .collect();
    let lambda_max = power_iteration(&hessian, p);
    // H's smallest eigenvalue is 1 / the largest of H⁻¹, found with the
    // Cholesky factor of AᵀA (H⁻¹ = (n/2)·(AᵀA)⁻¹).
    let (inverse_max, slow) = inverse_power_iteration(&chol, p);
    let lambda_min = 2.0 / n_train as f64 / inverse_max;
    // The slow direction's largest components, to name it.
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&i, &j| slow[j].abs().total_cmp(&slow[i].abs()));
    let slow_terms: Vec<String> = order[..4]
        .iter()
        .map(|&j| format!("{:+.2}·{}", slow[j] * slow[order[0]].signum(), names[j]))
        .collect();
    let rho = (1.0 - args.lr * lambda_min)
        .abs()
        .max((1.0 - args.lr * lambda_max).abs());
    nb.say(&format!(
        "On a quadratic loss a gradient step multiplies the error θ − θ* by I − lr·H, where H = \
         (2/n)·AᵀA is the loss's curvature. Along an eigenvector of H with eigenvalue λ the \
         error shrinks by |1 − lr·λ| per step. Here λ runs from {lambda_min:.4} to \
         {lambda_max:.3} (condition number {:.0}). The largest sets the speed limit: lr must \
         stay below 2/λ_max = {:.3} or that direction grows instead (try --lr 0.3). The \
         smallest sets the pace: along it the error shrinks only by 1 − lr·λ_min = {:.5} per \
         epoch. That direction is {} (its largest components): s1 is the total serum \
         cholesterol, s2 and s3 the LDL and HDL cholesterol, and the total is close to a \
         combination of the parts, so the data barely tell these weights apart. The loss is \
         nearly flat along it and gradient descent creeps there. The loss converges much \
         sooner than the weights, because a flat direction costs little loss.",
        lambda_max / lambda_min,
        2.0 / lambda_max,
        1.0 - args.lr * lambda_min,
        slow_terms.join(" ")
    ));
    let bound = rho.powi(args.epochs as i32) * w_norm;
    nb.table(
        &["after epochs", "‖θ − θ*‖", "bound ρ^t·‖θ₀ − θ*‖"],
        &[vec![
            args.epochs.to_string(),
            format!("{w_dist:.3e}"),
            format!("{bound:.3e}"),
        ]],
    );

    // ------------------------------------------------------------------
    nb.section("A small MLP on the same data");
    // Half of gradient descent's epochs, rounded up so that --epochs 1
    // still trains the MLPs and --epochs 0 trains nothing.
    let mlp_epochs = args.epochs.div_ceil(2);
    let mlp_params = HIDDEN * (features + 2) + 1;
    nb.say(&format!(
        "Can a nonlinear model do better? An MLP with one hidden layer of {HIDDEN} ReLU units \
         ({mlp_params} parameters against 11), trained with Adam at lr = {MLP_LR} for {} on \
         the same MSE. Adam moves each parameter by about lr per step, so the output bias \
         starts at the training mean ({y_mean:.1}) instead of walking there. Three seeds show \
         how much the result depends on the initialisation (the epoch lines are the first \
         seed's). The test MSE is recorded at every epoch only to draw it: nothing is chosen \
         with it.",
        count(mlp_epochs, "full-batch epoch")
    ));
    let mut runs = Vec::new();
    for k in 0..MLP_SEEDS {
        let seed = args.seed + k;
        let label = format!("MLP seed {seed}");
        let data = [&x_train, &y_train, &x_test, &y_test];
        let run = if k == 0 {
            let mut log = EpochLog::with_epochs(&label, mlp_epochs, &args);
            train_mlp(seed, data, y_mean, mlp_epochs, |epoch, train, test| {
                log.epoch_with(epoch, train, None, &[("test_mse", format!("{test:.3}"))]);
            })?
        } else {
            // The other seeds only show their progress: their lines would
            // tell the same story.
            let mut bar = Progress::new(&label, mlp_epochs, args.quiet);
            train_mlp(seed, data, y_mean, mlp_epochs, |_, _, _| bar.tick())?
        };
        runs.push(run);
    }
    let mut rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| fit_row(&format!("MLP seed {}", r.seed), &r.fit))
        .collect();
    rows.push(fit_row("least squares (section 4)", &cf_fit));
    nb.table(
        &["model", "train MSE", "test MSE", "train R²", "test R²"],
        &rows,
    );
    let (mean_train, mean_test) = mean_mses(&runs);
    if mlp_epochs == 0 {
        nb.say(&format!(
            "With --epochs 0 the MLPs are not trained: these are their random initial weights, \
             with the output bias at the training mean, so they score about what always \
             predicting the mean does (mean test MSE {mean_test:.1})."
        ));
    } else {
        nb.say(&mlp_verdict(&runs, &cf_fit, mlp_epochs, mlp_params));
    }

    // ------------------------------------------------------------------
    nb.section("Summary");
    // The loss itself is flat after a few epochs at this scale; its distance
    // to the least-squares minimum, on a log scale, shows the straight line
    // of section 5's geometric convergence. Rounding can leave the last
    // losses a hair below the minimum: they are drawn at 1e-12 rather than
    // dropped from the log axis, while a diverged run's NaN stays a gap.
    let excess: Vec<f64> = gd_losses
        .iter()
        .map(|l| {
            let e = l - cf_fit.train_mse;
            if e.is_nan() {
                e
            } else {
                e.max(1e-12)
            }
        })
        .collect();
    report_curves(
        &nb,
        "linear_regression_gd_excess.svg",
        "diabetes: gradient descent, train MSE − least-squares MSE",
        &[("train MSE − minimum", &excess)],
    );
    report_curves(
        &nb,
        "linear_regression_mlp_loss.svg",
        "diabetes: MLP (Adam), MSE",
        &[
            ("train MSE", &runs[0].train_curve),
            ("test MSE", &runs[0].test_curve),
        ],
    );
    nb.result(&format!(
        "gradient descent: train MSE {:.4}, test MSE {:.4}, test R² {:.4}",
        gd_fit.train_mse, gd_fit.test_mse, gd_fit.test_r2
    ));
    nb.result(&format!(
        "closed form: train MSE {:.4}, test MSE {:.4}, test R² {:.4}; \
         |θ_gd − θ*| = {w_dist:.3e}",
        cf_fit.train_mse, cf_fit.test_mse, cf_fit.test_r2
    ));
    nb.result(&format!(
        "MLP ({}): mean train MSE {mean_train:.4}, mean test MSE {mean_test:.4}",
        count(runs.len(), "seed")
    ));

    // The example's claims; --quick (CI) enforces them, other runs note the
    // ones an experiment breaks.
    let mut checks = Checks::new(&args);
    checks.loss_fell("gradient descent", &gd_losses, 0.5);
    // Gradient descent is on its way to the closed form, by the theorem of
    // section 5: ‖θ_t − θ*‖ ≤ ρ^t·‖θ₀ − θ*‖. It holds for any lr below
    // 2/λ_max and any number of epochs, so it is not a tolerance chosen to
    // pass: it fails only if the gradient, the optimizer step or the closed
    // form is wrong (or lr is too large). The 1e-9 terms cover rounding.
    checks.claim(
        w_dist <= bound * (1.0 + 1e-9) + 1e-9 * w_norm,
        &format!(
            "gradient descent is within the convergence bound {bound:.3e} of the \
             least-squares weights (distance {w_dist:.3e})"
        ),
    );
    // Close enough that no test-set conclusion changes (see `arrived`).
    checks.claim(
        arrived,
        &format!(
            "the test MSEs of gradient descent ({:.3}) and of the closed form ({:.3}) differ \
             by less than 0.1 × the test MSE's standard error ({se:.1})",
            gd_fit.test_mse, cf_fit.test_mse
        ),
    );
    for r in &runs {
        checks.loss_fell(&format!("MLP seed {}", r.seed), &r.train_curve, 0.5);
    }
    checks.finish();
    Ok(())
}

/// What section 6 concludes from the trained MLPs: train and test MSE
/// against least squares, compared row by row, and the first seed's test
/// curve.
fn mlp_verdict(runs: &[MlpRun], cf_fit: &Fit, mlp_epochs: usize, mlp_params: usize) -> String {
    let n_test = cf_fit.test_sq.len();
    let n_train = N_TRAIN;
    let (mean_train, mean_test) = mean_mses(runs);
    let best_epoch = runs[0]
        .test_curve
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(e, _)| e + 1);
    // Both models are scored on the same 89 rows, so compare them row by
    // row: the standard error of the mean difference of squared errors
    // (the MLP's averaged over seeds) is smaller than either MSE's own.
    let diffs: Vec<f64> = (0..n_test)
        .map(|i| {
            let mlp = runs.iter().map(|r| r.fit.test_sq[i]).sum::<f64>() / runs.len() as f64;
            mlp - cf_fit.test_sq[i]
        })
        .collect();
    let (diff, diff_var) = mean_var(&diffs);
    let paired_se = (diff_var / n_test as f64).sqrt();
    let trend = if mlp_epochs < 2 {
        String::new()
    } else if best_epoch < mlp_epochs {
        format!(
            " Its test curve (seed {}) is lowest at epoch {best_epoch} and then climbs while \
             the training loss keeps falling: with {n_train} rows the extra flexibility starts \
             fitting noise. Stopping early would need a validation split taken from the \
             training rows; choosing the epoch with the test rows would make the test score \
             meaningless.",
            runs[0].seed
        )
    } else {
        format!(
            " Its test curve (seed {}) is still falling at the last epoch.",
            runs[0].seed
        )
    };
    let verdict = if diff < -2.0 * paired_se {
        "better than"
    } else if diff > 2.0 * paired_se {
        "worse than"
    } else {
        "not distinguishable from"
    };
    let train_part = if mean_train < cf_fit.train_mse {
        format!(
            "the MLPs fit the training rows better (mean train MSE {mean_train:.1} against \
             {:.1}), as {mlp_params} parameters should",
            cf_fit.train_mse
        )
    } else {
        format!(
            "the MLPs fit the training rows worse (mean train MSE {mean_train:.1} against \
             {:.1}) after only {}, too little training for {mlp_params} parameters",
            cf_fit.train_mse,
            count(mlp_epochs, "epoch")
        )
    };
    format!(
        "Measured: {train_part}; on the test rows they average {mean_test:.1} against least \
         squares' {:.1}. Both are scored on the same {n_test} patients, so the fair comparison \
         is row by row: the MLPs' squared error minus least squares' is {diff:+.1} on average, \
         with a standard error of {paired_se:.1} ({:+.1} standard errors), so the MLP is \
         {verdict} the linear model on this data.{trend}",
        cf_fit.test_mse,
        diff / paired_se,
    )
}

/// The MLPs' train and test MSEs, averaged over the seeds.
fn mean_mses(runs: &[MlpRun]) -> (f64, f64) {
    let n = runs.len() as f64;
    (
        runs.iter().map(|r| r.fit.train_mse).sum::<f64>() / n,
        runs.iter().map(|r| r.fit.test_mse).sum::<f64>() / n,
    )
}

/// Full-batch gradient descent on the MSE, its epoch lines in an
/// [`EpochLog`]; returns the loss of every step (measured before it).
fn train_gd(model: &Linear, x: &Tensor, y: &Tensor, args: &Args) -> Result<Vec<f64>> {
    let config = SgdConfig {
        lr: args.lr,
        ..SgdConfig::default()
    };
    let mut optimizer = SGD::new(model.parameters(), config)?;
    let mut log = EpochLog::new("gradient descent", args);
    let mut losses = Vec::with_capacity(args.epochs);
    for epoch in 1..=args.epochs {
        optimizer.zero_grad();
        let loss = F::mse_loss(&model.try_forward(x)?, y)?;
        loss.try_backward()?;
        optimizer.step()?;
        losses.push(loss.item::<f64>());
        log.epoch(epoch, losses[epoch - 1], None);
    }
    Ok(losses)
}

/// One trained MLP: its curves and its final fit.
struct MlpRun {
    seed: u64,
    train_curve: Vec<f64>,
    test_curve: Vec<f64>,
    fit: Fit,
}

/// Trains one MLP from `seed` for `epochs` full-batch Adam steps on
/// `[x_train, y_train, x_test, y_test]`; `on_epoch(epoch, train MSE, test
/// MSE)` sees every epoch (the train MSE before the step, the test MSE
/// after it).
fn train_mlp(
    seed: u64,
    [x_train, y_train, x_test, y_test]: [&Tensor; 4],
    y_mean: f64,
    epochs: usize,
    mut on_epoch: impl FnMut(usize, f64, f64),
) -> Result<MlpRun> {
    let mut rng = seeded_rng(seed);
    let features = x_train.dims()[1];
    let hidden = Linear::with_dtype(features, HIDDEN, true, DType::F64, &mut rng);
    let out = Linear::with_dtype(HIDDEN, 1, true, DType::F64, &mut rng);
    // Start the output at the training mean (see the notebook text).
    let out = Linear::from_tensors(
        out.weight(),
        Some(&Tensor::full_dtype([1], y_mean, DType::F64)),
    )?;
    let model = Sequential::new().append(hidden).append(ReLU).append(out);
    let config = AdamConfig {
        lr: MLP_LR,
        ..AdamConfig::default()
    };
    let mut optimizer = Adam::new(model.parameters(), config)?;
    let (mut train_curve, mut test_curve) = (Vec::new(), Vec::new());
    for epoch in 1..=epochs {
        optimizer.zero_grad();
        let loss = F::mse_loss(&model.try_forward(x_train)?, y_train)?;
        loss.try_backward()?;
        optimizer.step()?;
        train_curve.push(loss.item::<f64>());
        let test = no_grad(|| F::mse_loss(&model.try_forward(x_test)?, y_test))?;
        test_curve.push(test.item::<f64>());
        on_epoch(epoch, train_curve[epoch - 1], test_curve[epoch - 1]);
    }
    let predict = |x: &Tensor| no_grad(|| model.try_forward(x));
    let fit = Fit::from_predictions(&predict(x_train)?, y_train, &predict(x_test)?, y_test)?;
    Ok(MlpRun {
        seed,
        train_curve,
        test_curve,
        fit,
    })
}

/// Train and test errors of one model.
struct Fit {
    train_mse: f64,
    test_mse: f64,
    train_r2: f64,
    test_r2: f64,
    /// Standard error of `test_mse` (std of the squared errors / √n).
    test_se: f64,
    /// The squared error of every test row.
    test_sq: Vec<f64>,
}

impl Fit {
    /// For a linear model `θ = (w, b)` applied to `A = [X, 1]`.
    fn measure(
        theta: &[f64],
        a_train: &Tensor,
        y_train: &Tensor,
        a_test: &Tensor,
        y_test: &Tensor,
    ) -> Result<Fit> {
        let theta = Tensor::from_vec(theta.to_vec(), [theta.len(), 1])?;
        Fit::from_predictions(
            &a_train.try_matmul(&theta)?,
            y_train,
            &a_test.try_matmul(&theta)?,
            y_test,
        )
    }

    fn from_predictions(
        p_train: &Tensor,
        y_train: &Tensor,
        p_test: &Tensor,
        y_test: &Tensor,
    ) -> Result<Fit> {
        let none = F::MseLossOptions::default().reduction(F::Reduction::None);
        let sq = F::mse_loss_with(p_test, y_test, &none)?.to_vec::<f64>();
        let (test_mse, sq_var) = mean_var(&sq);
        let train_mse = F::mse_loss(p_train, y_train)?.item::<f64>();
        Ok(Fit {
            train_mse,
            test_mse,
            train_r2: 1.0 - train_mse / mean_var(&y_train.to_vec::<f64>()).1,
            test_r2: 1.0 - test_mse / mean_var(&y_test.to_vec::<f64>()).1,
            test_se: (sq_var / sq.len() as f64).sqrt(),
            test_sq: sq,
        })
    }
}

fn fit_row(name: &str, f: &Fit) -> Vec<String> {
    vec![
        name.to_string(),
        format!("{:.2}", f.train_mse),
        format!("{:.2}", f.test_mse),
        format!("{:.4}", f.train_r2),
        format!("{:.4}", f.test_r2),
    ]
}

/// `[X, 1]`: the features with a column of ones for the bias.
fn with_ones(x: &Tensor) -> Result<Tensor> {
    let ones = Tensor::full_dtype([x.dims()[0], 1], 1.0, x.dtype());
    Tensor::try_cat(&[x, &ones], 1)
}

/// The weights then the bias, as one vector `θ`.
fn flat_params(model: &Linear) -> Vec<f64> {
    let mut theta = model.weight().to_vec::<f64>();
    theta.extend(model.bias().map_or(vec![], |b| b.to_vec::<f64>()));
    theta
}

/// Cholesky factor `L` (row-major, lower triangular) of the symmetric
/// positive definite `p × p` matrix `m`, so that `m = L·Lᵀ`; `None` if `m`
/// is not positive definite.
fn cholesky(m: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum();
            if i == j {
                let d = m[i * p + i] - dot;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * p + i] = d.sqrt();
            } else {
                l[i * p + j] = (m[i * p + j] - dot) / l[j * p + j];
            }
        }
    }
    Some(l)
}

/// Solves `L·Lᵀ·x = b`: forward substitution, then back substitution.
fn cholesky_solve(l: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut z = vec![0.0; p];
    for i in 0..p {
        let dot: f64 = (0..i).map(|k| l[i * p + k] * z[k]).sum();
        z[i] = (b[i] - dot) / l[i * p + i];
    }
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        let dot: f64 = (i + 1..p).map(|k| l[k * p + i] * x[k]).sum();
        x[i] = (z[i] - dot) / l[i * p + i];
    }
    x
}

/// The largest eigenvalue of a symmetric positive semi-definite matrix, by
/// power iteration (the Rayleigh quotient of the last iterate). 200
/// iterations are plenty: the error shrinks by (λ₂/λ₁)² per iteration.
fn power_iteration(m: &[f64], p: usize) -> f64 {
    let mut v = vec![1.0; p];
    let mut lambda = 0.0;
    for _ in 0..200 {
        let mv: Vec<f64> = (0..p)
            .map(|i| (0..p).map(|j| m[i * p + j] * v[j]).sum())
            .collect();
        let norm = mv.iter().map(|x| x * x).sum::<f64>().sqrt();
        lambda = v.iter().zip(&mv).map(|(a, b)| a * b).sum::<f64>()
            / v.iter().map(|x| x * x).sum::<f64>();
        v = mv.iter().map(|x| x / norm).collect();
    }
    lambda
}

/// The largest eigenvalue of `M⁻¹` where `M = L·Lᵀ`, and its unit
/// eigenvector: power iteration with a Cholesky solve in place of the
/// product.
fn inverse_power_iteration(l: &[f64], p: usize) -> (f64, Vec<f64>) {
    let mut v = vec![1.0; p];
    let mut lambda = 0.0;
    for _ in 0..200 {
        let mv = cholesky_solve(l, &v, p);
        let norm = mv.iter().map(|x| x * x).sum::<f64>().sqrt();
        lambda = v.iter().zip(&mv).map(|(a, b)| a * b).sum::<f64>()
            / v.iter().map(|x| x * x).sum::<f64>();
        v = mv.iter().map(|x| x / norm).collect();
    }
    (lambda, v)
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Mean and population variance.
fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (
        mean,
        v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n,
    )
}

fn fmt_list(values: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
