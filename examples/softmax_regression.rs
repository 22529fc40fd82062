//! # Softmax regression on iris flowers and handwritten digits
//!
//! What you will learn:
//! - how a linear model scores every class at once, `z = W·x + b`, and how
//!   softmax turns those scores into a probability distribution;
//! - why cross-entropy, `−log p(true class)`, is the loss for it, and why its
//!   gradient with respect to the scores is `p − onehot(y)`;
//! - full-batch gradient descent on two real datasets: 3 iris species from 4
//!   measurements, and 10 digits from 8×8 images;
//! - how to read a confusion matrix: which classes get mistaken for which.
//!
//! Run it: `cargo run --release --example softmax_regression`; `-- --help`
//! lists the flags (the epochs and learning rate apply to both datasets).

mod support;

use support::chart::report_curves;
use support::checks::Checks;
use support::epochs::EpochLog;
use support::fit::{self, Case, History, SOFTMAX_DIGITS, SOFTMAX_IRIS};
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use support::prose::{self, a_or_an, change, count_as};
use tapegrad::data::{confusion_matrix, ConfusionMatrix};
use tapegrad::nn::functional as F;
use tapegrad::{Result, Tensor};

const IRIS_NAMES: [&str; 3] = ["setosa", "versicolor", "virginica"];

// The defaults of the two cases are the same, and one set of flags trains both.
const SPEC: Spec = Spec {
    epochs: Some(SOFTMAX_IRIS.epochs),
    lr: Some(SOFTMAX_IRIS.lr),
    seed: Some("the initial weights"),
    out: Some("the two loss curves (SVG)"),
    save_init: true,
    ..Spec::new(
        "softmax_regression",
        "Softmax regression on iris (3 species) and digits (10 classes): one linear score per \
         class, softmax, cross-entropy and its gradient p − onehot(y), full-batch gradient \
         descent on both datasets, test accuracy and confusion matrices. --epochs and --lr \
         apply to both datasets.",
    )
};

fn main() -> Result<()> {
    let args = Args::parse(SPEC);
    if let Some(dir) = &args.save_init {
        for case in [SOFTMAX_IRIS, SOFTMAX_DIGITS] {
            let path = fit::save_init(&case, args.seed, dir)?;
            println!("initial weights written to {}", path.display());
        }
        return Ok(());
    }
    let mut nb = Notebook::new("Softmax regression: one score per class", &args);

    // ------------------------------------------------------------------
    nb.section("From scores to probabilities");
    nb.say(
        "With K classes, a linear model computes K scores, z_k = w_k·x + b_k: a weight matrix W \
         of shape [K, features] and K biases. Scores are not probabilities: they can be negative \
         and they do not sum to 1. Softmax fixes both: p_k = e^(z_k) / Σ_j e^(z_j). The \
         exponential makes every score positive and the division makes them sum to 1. Adding the \
         same number to every score changes nothing, so only the differences between scores \
         matter.",
    );
    let examples = [
        [2.0f64, 1.0, 0.1],
        [2.0, 1.0, 0.1].map(|z| z + 100.0),
        [5.0, 0.0, 0.0],
        [0.0, 0.0, 0.0],
    ];
    nb.table(
        &["scores s", "softmax(s)", "sum"],
        &examples
            .iter()
            .map(|z| {
                let p = F::softmax(&Tensor::new(*z), 0)?.to_vec::<f64>();
                Ok(vec![
                    fmt_list(z, 1),
                    fmt_list(&p, 4),
                    format!("{:.4}", p.iter().sum::<f64>()),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    );

    // ------------------------------------------------------------------
    nb.section("The loss: cross-entropy");
    nb.say(
        "The model's probability for the true class y is p_y; the loss is −log p_y, averaged over \
         the training rows. It is the cross-entropy between the one-hot label (all mass on y) and \
         the model's distribution, and minimising it is maximum likelihood. Its gradient with \
         respect to the scores is remarkably simple: ∂ℓ/∂s = p − onehot(y). Every wrong class is \
         pushed down by its probability, the true class pulled up by 1 − p_y. The tape computes \
         exactly that:",
    );
    let z = Tensor::new([[2.0f64, 1.0, 0.1]]).requires_grad_(true);
    let loss = F::cross_entropy(&z, &Tensor::new([1.0f64]))?;
    loss.backward();
    let p = F::softmax(&z.detach(), 1)?.to_vec::<f64>();
    let hand: Vec<f64> = p
        .iter()
        .enumerate()
        .map(|(k, &pk)| pk - f64::from(k == 1))
        .collect();
    nb.table(
        &[
            "scores s",
            "class y",
            "−log p_y",
            "tape ∂ℓ/∂s",
            "p − onehot(y)",
        ],
        &[vec![
            fmt_list(&[2.0, 1.0, 0.1], 1),
            "1".into(),
            format!("{:.4}", loss.item::<f64>()),
            fmt_list(&z.grad().unwrap().to_vec::<f64>(), 4),
            fmt_list(&hand, 4),
        ]],
    );

    // ------------------------------------------------------------------
    nb.section("Iris: three species from four measurements");
    let iris = fit::load("iris")?;
    nb.say(&format!(
        "Fisher's iris data: sepal length and width, petal length and width (cm) of 150 flowers \
         of three species. {} rows train and {} test (10 per species), standardised with the \
         training statistics. The model has a [3, 4] weight matrix (one row of 4 weights per \
         species, as in nn::Linear) and 3 biases.",
        iris.train.len(),
        iris.test.len()
    ));
    nb.table(
        &["species", "train rows", "test rows"],
        &(0..3)
            .map(|c| {
                vec![
                    format!("{c} {}", IRIS_NAMES[c]),
                    count(iris.train.labels(), c).to_string(),
                    count(iris.test.labels(), c).to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    nb.say(&format!(
        "Training: {} epochs of full-batch gradient descent at lr = {}, loss = \
         cross_entropy(s, y) (which applies log_softmax itself). Each line is the loss and \
         training accuracy of the forward pass of that step.",
        args.epochs, args.lr
    ));
    let (iris_hist, iris_acc, iris_pred) = train_case(&SOFTMAX_IRIS, &iris, &args)?;
    nb.say(&format!(
        "{} On the 30 test flowers the accuracy is {iris_acc:.4}. The confusion matrix counts, \
         for each true species (row), what the model predicted (column); the diagonal is right:",
        how_the_loss_went(
            &iris_hist,
            "; it started near ln 3 = 1.0986, the loss of uniform probabilities, as a freshly \
             initialised model should (docs/13-in-practice.md)"
        )
    ));
    let cm = confusion_table(&nb, &iris_pred, iris.test.labels(), &IRIS_NAMES)?;
    let setosa_errors = cm.get(0, 1) + cm.get(0, 2) + cm.get(1, 0) + cm.get(2, 0);
    nb.say(&format!(
        "Setosa is separable from the other two by petal size alone (mistakes involving it \
         here: {setosa_errors}); versicolor and virginica overlap, and between those two this \
         run makes {}.",
        prose::count(cm.get(1, 2) + cm.get(2, 1), "mistake")
    ));

    // ------------------------------------------------------------------
    nb.section("Digits: ten classes from 8×8 images");
    let digits = fit::load("digits")?;
    let first_label = digits.train.labels().to_vec::<f32>()[0].to_string();
    nb.say(&format!(
        "Each digit is an 8×8 image of ink intensities 0..16, flattened to 64 features. {} \
         training images, {} test images. Here is the first training image, {} {first_label}:",
        digits.train.len(),
        digits.test.len(),
        a_or_an(&first_label)
    ));
    let first_raw = digits.train_raw.features().to_vec::<f32>();
    nb.block(&format!("{}\n\n", fit::digit_art(&first_raw[..64])));
    nb.say(
        "The same model as for iris, now with a [10, 64] weight matrix: each class gets a 64-pixel \
         template, and the score is how well the image matches it.",
    );
    let (digits_hist, digits_acc, digits_pred) = train_case(&SOFTMAX_DIGITS, &digits, &args)?;
    nb.say(&format!(
        "{} Test accuracy: {digits_acc:.4}. The confusion matrix (rows: the true digit, \
         columns: the prediction):",
        how_the_loss_went(
            &digits_hist,
            " (ln 10 = 2.3026 would be uniform probabilities)"
        )
    ));
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let cm = confusion_table(&nb, &digits_pred, digits.test.labels(), &names)?;
    let (mut worst, mut worst_n) = ((0, 0), 0);
    for a in 0..10 {
        for b in (0..10).filter(|&b| b != a) {
            if cm.get(a, b) > worst_n {
                (worst, worst_n) = ((a, b), cm.get(a, b));
            }
        }
    }
    let (a, b) = (worst.0.to_string(), worst.1.to_string());
    let most_frequent = if worst_n == 0 {
        "this run makes no mistakes on the test digits".to_string()
    } else {
        format!(
            "the most frequent mistake here is {} {a} read as {} {b} ({})",
            a_or_an(&a),
            a_or_an(&b),
            count_as(worst_n, "time", "times")
        )
    };
    nb.say(&format!(
        "Off the diagonal are the digits that one template per class cannot tell apart; \
         {most_frequent}. A hidden layer can learn features shared between classes and do \
         better: see the mlp_digits example."
    ));

    // ------------------------------------------------------------------
    nb.section("Summary");
    report_curves(
        &nb,
        "softmax_regression_iris_loss.svg",
        "iris: cross-entropy",
        &[("train loss", &iris_hist.loss)],
    );
    report_curves(
        &nb,
        "softmax_regression_digits_loss.svg",
        "digits: cross-entropy",
        &[("train loss", &digits_hist.loss)],
    );
    for (case, hist, acc) in [
        (SOFTMAX_IRIS, &iris_hist, iris_acc),
        (SOFTMAX_DIGITS, &digits_hist, digits_acc),
    ] {
        nb.result(&format!(
            "{} softmax regression: {}, test accuracy {acc:.4}",
            case.dataset,
            fit::final_loss(hist)
        ));
        nb.result(&fit::compare_with_reference(
            &case, hist, args.lr, args.seed,
        ));
    }

    let mut checks = Checks::new(&args);
    checks.loss_fell("iris", &iris_hist.loss, 0.5);
    checks.loss_fell("digits", &digits_hist.loss, 0.5);
    // The floors and their justification: fit::SOFTMAX_IRIS, fit::SOFTMAX_DIGITS.
    checks.accuracy_at_least("iris test", iris_acc, SOFTMAX_IRIS.floor);
    checks.accuracy_at_least("digits test", digits_acc, SOFTMAX_DIGITS.floor);
    checks.finish();
    Ok(())
}

/// "The loss fell from a to b", then `about_the_start` (which compares the
/// first loss with that of uniform probabilities), or why there is no such
/// sentence.
fn how_the_loss_went(history: &History, about_the_start: &str) -> String {
    match (history.loss.as_slice(), change(&history.loss, 4)) {
        // change() would say "was x (a single epoch)", and a second
        // parenthesis after that one reads badly.
        ([only], _) => format!("The loss of the single epoch was {only:.4}{about_the_start}."),
        (_, Some(loss)) => format!("The loss {loss}{about_the_start}."),
        (_, None) => "No training (--epochs 0): these are the random initial weights.".into(),
    }
}

/// Trains one case with the flags' epochs and learning rate, printing the
/// epoch lines; returns the history, the test accuracy and the test logits.
fn train_case(case: &Case, data: &fit::Split, args: &Args) -> Result<(History, f64, Tensor)> {
    let model = case.model(args.seed)?;
    let mut optimizer = case.optimizer(&*model, args.lr)?;
    let mut log = EpochLog::new(case.dataset, args);
    let history = fit::train(
        &*model,
        &data.train,
        case.loss,
        &mut optimizer,
        args.epochs,
        |epoch, loss, acc| log.epoch(epoch, loss, Some(acc)),
    )?;
    let logits = fit::logits(&*model, data.test.features())?;
    let acc = fit::evaluate(&*model, &data.test, case.loss)?;
    Ok((history, acc, logits))
}

/// The confusion matrix as a table with class names.
fn confusion_table(
    nb: &Notebook,
    logits: &Tensor,
    labels: &Tensor,
    names: &[&str],
) -> Result<ConfusionMatrix> {
    let cm = confusion_matrix(logits, labels, names.len())?;
    let mut headers = vec!["true \\ predicted"];
    headers.extend_from_slice(names);
    headers.push("recall");
    let rows: Vec<Vec<String>> = cm
        .rows()
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let total: usize = row.iter().sum();
            let mut cells = vec![names[c].to_string()];
            cells.extend(row.iter().map(|v| v.to_string()));
            cells.push(format!("{:.2}", row[c] as f64 / total.max(1) as f64));
            cells
        })
        .collect();
    nb.table(&headers, &rows);
    Ok(cm)
}

fn count(labels: &Tensor, class: usize) -> usize {
    labels
        .to_vec::<f32>()
        .iter()
        .filter(|&&v| v as usize == class)
        .count()
}

fn fmt_list(values: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}
