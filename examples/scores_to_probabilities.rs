//! # From scores to probabilities
//!
//! A linear classifier gives every class a *score* `s = W·x + b`. This
//! notebook turns those scores into probabilities, step by step, on real
//! iris flowers. You will learn:
//!
//! 1. why a score is not a probability (it is unbounded, and only the
//!    differences between scores carry information);
//! 2. how the sigmoid of a score *difference* gives a two-class probability;
//! 3. how softmax generalises that to any number of classes;
//! 4. why softmax does not care if every score moves by the same constant
//!    (but does care if they are all scaled);
//! 5. what the Jacobian of softmax is, `diag(p) − p·pᵀ`, computed row by row
//!    by the tape and by hand, and checked to agree.
//!
//! ```sh
//! cargo run --release --example scores_to_probabilities
//! ```
//!
//! Under `--quick` (CI) the program exits with an error if a checked
//! identity fails; otherwise it notes it at the end.

mod support;

use support::checks::Checks;
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use tapegrad::data::read_csv;
use tapegrad::{grad, DType, Tensor};

const CLASSES: [&str; 3] = ["setosa", "versicolor", "virginica"];

const SPEC: Spec = Spec::new(
    "scores_to_probabilities",
    "From a linear classifier's scores to probabilities, on real iris flowers: why a score is \
     not a probability, the sigmoid of a score difference, softmax, its shift invariance, and \
     its Jacobian diag(p) − p·pᵀ computed by the tape and by hand. Nothing is trained or \
     random here, so the only flags are about the output.",
);

fn main() {
    let args = Args::parse(SPEC);
    let mut nb = Notebook::new("From scores to probabilities", &args);
    let mut checks = Checks::new(&args);

    // ------------------------------------------------------------------
    nb.section("A linear classifier gives scores");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let table = read_csv(path, "label", DType::F64).unwrap_or_else(|e| fail(&e.to_string()));
    let features = table.features.to_vec::<f64>();
    let labels: Vec<usize> = table
        .labels
        .to_vec::<f64>()
        .iter()
        .map(|&v| v as usize)
        .collect();
    let d = table.feature_names.len();
    let n = labels.len();

    // A "nearest class mean" classifier is linear: −½‖x − μₖ‖² = μₖ·x − ½‖μₖ‖² − ½‖x‖²,
    // and the last term is the same for every class, so it can be dropped.
    let mut means = vec![vec![0.0; d]; 3];
    let mut counts = [0usize; 3];
    for (i, &y) in labels.iter().enumerate() {
        counts[y] += 1;
        for j in 0..d {
            means[y][j] += features[i * d + j];
        }
    }
    for (mean, &count) in means.iter_mut().zip(&counts) {
        mean.iter_mut().for_each(|v| *v /= count as f64);
    }
    let w_rows: Vec<f64> = means.iter().flatten().copied().collect();
    let b_vals: Vec<f64> = means
        .iter()
        .map(|m| -0.5 * m.iter().map(|v| v * v).sum::<f64>())
        .collect();
    let w = Tensor::from_vec(w_rows, vec![3, d]).unwrap();
    let b = Tensor::from_vec(b_vals.clone(), vec![3]).unwrap();

    nb.say(&format!(
        "We read {n} iris flowers ({d} measurements each, in cm) from data/iris.csv. Our \
         classifier is the simplest linear one there is: class k has a weight row wₖ = μₖ, the \
         mean flower of that class, and a bias bₖ = −½‖μₖ‖². Expanding the square, \
         −½‖x − μₖ‖² = sₖ − ½‖x‖², where sₖ = wₖ·x + bₖ: the score is minus half the squared \
         distance to the class mean, plus ½‖x‖², which is the same for every class. So the \
         highest score goes to the nearest class mean. No training: the weights are three \
         averages (class ids 0, 1, 2 are setosa, versicolor, virginica)."
    ));
    let mut rows = Vec::new();
    for (k, name) in CLASSES.iter().enumerate() {
        let mut row = vec![name.to_string()];
        row.extend(means[k].iter().map(|v| format!("{v:.3}")));
        row.push(format!("{:.3}", b_vals[k]));
        rows.push(row);
    }
    let mut headers: Vec<&str> = vec!["class"];
    let names: Vec<String> = table
        .feature_names
        .iter()
        .map(|s| format!("w·{s}"))
        .collect();
    headers.extend(names.iter().map(String::as_str));
    headers.push("b");
    nb.table(&headers, &rows);

    // One flower of each class, plus the versicolor flower that looks most
    // like a virginica (the hardest case of the three).
    let x_all = &table.features;
    let scores_all = x_all.matmul(&w.t()).add(&b);
    let s_all = scores_all.to_vec::<f64>();
    let mut picks: Vec<usize> = (0..3)
        .map(|k| labels.iter().position(|&y| y == k).unwrap())
        .collect();
    let hardest = (0..n)
        .filter(|&i| labels[i] == 1)
        .min_by(|&i, &j| {
            let gap = |r: usize| s_all[r * 3 + 1] - s_all[r * 3 + 2];
            gap(i).total_cmp(&gap(j))
        })
        .unwrap();
    picks.push(hardest);
    let correct = (0..n)
        .filter(|&i| argmax(&s_all[i * 3..i * 3 + 3]) == labels[i])
        .count();

    let x = table.dataset().unwrap().select(&picks).unwrap();
    let s = x.features().matmul(&w.t()).add(&b);
    let s_rows = rows_of(&s);
    nb.say(
        "The scores s = W·x + b for four flowers (the last is the versicolor whose scores are \
         closest to virginica):",
    );
    let score_rows: Vec<Vec<String>> = picks
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let mut row = vec![format!("#{i}"), CLASSES[labels[i]].to_string()];
            row.extend(s_rows[r].iter().map(|v| format!("{v:.3}")));
            row.push(format!("{:.3}", s_rows[r].iter().sum::<f64>()));
            row.push(CLASSES[argmax(&s_rows[r])].to_string());
            row
        })
        .collect();
    nb.table(
        &[
            "flower",
            "true class",
            "s_setosa",
            "s_versicolor",
            "s_virginica",
            "Σ s",
            "argmax",
        ],
        &score_rows,
    );
    nb.result(&format!(
        "nearest-mean classifier: {correct}/{n} flowers ({:.1}%) get their highest score on the true class",
        100.0 * correct as f64 / n as f64
    ));

    // ------------------------------------------------------------------
    nb.section("Why a score is not a probability");
    let lo = s_rows
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = s_rows
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    nb.say(&format!(
        "Look at the numbers above: the scores run from {lo:.0} to {hi:.0}, far outside [0, 1], \
         and their sum is nothing in particular. Nothing bounds them: scale a flower up and its \
         scores grow without limit. And only their differences mean anything: adding 100 to \
         every score of a flower changes no decision, because the argmax is the same. A \
         probability must be in [0, 1] and the three must sum to 1, so we need a map from \
         score differences to such numbers."
    ));
    let first = &s_rows[0];
    let shift_rows: Vec<Vec<String>> = [0.0, 100.0, -1000.0]
        .iter()
        .map(|&c| {
            let shifted: Vec<f64> = first.iter().map(|v| v + c).collect();
            let mut row = vec![format!("{c}")];
            row.extend(shifted.iter().map(|v| format!("{v:.3}")));
            row.push(format!("{:.3}", shifted[0] - shifted[1]));
            row.push(CLASSES[argmax(&shifted)].to_string());
            row
        })
        .collect();
    nb.table(
        &[
            "c added",
            "s_setosa",
            "s_versicolor",
            "s_virginica",
            "s_set − s_ver",
            "argmax",
        ],
        &shift_rows,
    );

    // ------------------------------------------------------------------
    nb.section("Two classes: the sigmoid of a score difference");
    nb.say(
        "With two classes, 0 and 1, the only thing that matters is d = s₁ − s₀. We want a map \
         that sends large positive d to about 1, large negative d to about 0, and d = 0 to \
         exactly ½. The sigmoid σ(d) = 1 / (1 + e^(−d)) does this: p(class 1) = σ(d), and \
         σ(−d) = 1 − σ(d) gives class 0, so the two always sum to 1. It is also exactly a \
         two-class softmax of (s₀, s₁), which the last column checks.",
    );
    let diffs = [-8.0, -2.0, -0.5, 0.0, 0.5, 2.0, 8.0];
    let dt = Tensor::new(diffs);
    let p1 = dt.sigmoid().to_vec::<f64>();
    let p2 = dt.neg().sigmoid().to_vec::<f64>();
    // softmax over the pair (d, 0) is the same as over (s₁, s₂): shifts do not matter.
    let pair = Tensor::from_vec(
        diffs.iter().flat_map(|&v| [v, 0.0]).collect(),
        vec![diffs.len(), 2],
    )
    .unwrap()
    .softmax(1)
    .to_vec::<f64>();
    let mut worst = 0.0f64;
    let sig_rows: Vec<Vec<String>> = (0..diffs.len())
        .map(|i| {
            let gap = (p1[i] - pair[2 * i]).abs();
            worst = worst.max(gap).max((p1[i] + p2[i] - 1.0).abs());
            vec![
                format!("{}", diffs[i]),
                format!("{:.6}", p1[i]),
                format!("{:.6}", p2[i]),
                format!("{:.6}", p1[i] + p2[i]),
                format!("{gap:.1e}"),
            ]
        })
        .collect();
    nb.table(
        &["d = s₁ − s₀", "σ(d)", "σ(−d)", "sum", "|σ(d) − softmax₁|"],
        &sig_rows,
    );
    checks.claim(
        worst < 1e-12,
        &format!("σ(d) + σ(−d) = 1 and σ(d) = softmax₁ to 1e-12 (worst error {worst:.1e})"),
    );
    let (s_set, s_ver) = (first[0], first[1]);
    nb.say(&format!(
        "For flower #{} (a setosa), setosa (class 0) against versicolor (class 1): \
         s₀ − s₁ = {:.3}, so p(setosa) = σ(s₀ − s₁) = {:.6} if those were the only two classes.",
        picks[0],
        s_set - s_ver,
        1.0 / (1.0 + (-(s_set - s_ver)).exp())
    ));

    // ------------------------------------------------------------------
    nb.section("Many classes: softmax");
    nb.say(
        "Softmax exponentiates every score (making it positive) and divides by the total (making \
         them sum to 1): pₖ = e^(sₖ) / Σⱼ e^(sⱼ). With two classes it is the sigmoid of the \
         difference again. The largest score still gets the largest probability, but now we can \
         also read how sure the classifier is.",
    );
    let p = s.softmax(1);
    let p_rows = rows_of(&p);
    let mut worst_sum = 0.0f64;
    let prob_rows: Vec<Vec<String>> = picks
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let sum: f64 = p_rows[r].iter().sum();
            worst_sum = worst_sum.max((sum - 1.0).abs());
            let mut row = vec![format!("#{i}"), CLASSES[labels[i]].to_string()];
            row.extend(p_rows[r].iter().map(|v| format!("{v:.6}")));
            row.push(format!("{sum:.6}"));
            row
        })
        .collect();
    nb.table(
        &[
            "flower",
            "true class",
            "p_setosa",
            "p_versicolor",
            "p_virginica",
            "Σ p",
        ],
        &prob_rows,
    );
    checks.claim(
        worst_sum < 1e-12,
        &format!("softmax rows sum to 1 to 1e-12 (worst error {worst_sum:.1e})"),
    );
    let hard = &p_rows[3];
    nb.say(&format!(
        "The setosa is nearly certain. The last flower is a versicolor that the classifier gets \
         wrong, but the probabilities show it is not sure about it: {:.2} for virginica against \
         {:.2} for versicolor. Their scores differ by only {:.2}, and that difference is all \
         softmax sees: the ratio of the two probabilities is e raised to that difference, \
         whatever the scores themselves (here near {:.0}) are. As probabilities it reads as a \
         coin flip, slightly biased.",
        hard[2],
        hard[1],
        s_rows[3][2] - s_rows[3][1],
        s_rows[3][2]
    ));

    // ------------------------------------------------------------------
    nb.section("Softmax ignores a common shift, not a common scale");
    nb.say(
        "Adding c to every score multiplies every e^(sₖ) by the same e^c, which cancels in the \
         ratio: softmax(s + c) = softmax(s). That is the precise form of 'only differences \
         matter' (and the reason the ½‖x‖² term could be dropped). It is also how softmax is \
         computed safely: subtract the largest score first, so that no exponential overflows, \
         even for c = 1000 where e^1000 alone would be infinite. Multiplying the scores by a \
         factor t, on the other hand, changes every difference, and with it the confidence. The \
         row 's − ½‖x‖²' puts back the term we dropped: the scores become −½‖x − μₖ‖², all \
         negative, and the probabilities do not move.",
    );
    let last = Tensor::from_vec(s_rows[3].clone(), vec![3]).unwrap();
    let base = last.softmax(0).to_vec::<f64>();
    let half_norm = 0.5 * x.features().narrow(0, 3, 1).square().sum().item::<f64>();
    let mut worst_shift = 0.0f64;
    let mut inv_rows = Vec::new();
    for (label, t) in [
        ("s", last.clone()),
        ("s + 10", last.add_scalar(10.0)),
        ("s − 50", last.add_scalar(-50.0)),
        ("s + 1000", last.add_scalar(1000.0)),
        ("s − ½‖x‖²", last.add_scalar(-half_norm)),
        ("0.5 · s", last.mul_scalar(0.5)),
        ("2 · s", last.mul_scalar(2.0)),
    ] {
        let q = t.softmax(0).to_vec::<f64>();
        let gap = q
            .iter()
            .zip(&base)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        if label.starts_with('s') {
            worst_shift = worst_shift.max(gap);
        }
        let mut row = vec![label.to_string()];
        row.extend(q.iter().map(|v| format!("{v:.6}")));
        row.push(format!("{gap:.1e}"));
        inv_rows.push(row);
    }
    nb.table(
        &[
            "scores",
            "p_setosa",
            "p_versicolor",
            "p_virginica",
            "max |p − p(s)|",
        ],
        &inv_rows,
    );
    checks.claim(
        worst_shift < 1e-12,
        &format!("softmax is shift invariant to 1e-12 (worst error {worst_shift:.1e})"),
    );
    nb.result(&format!(
        "shift invariance: max |softmax(s + c) − softmax(s)| = {worst_shift:.1e}"
    ));

    // ------------------------------------------------------------------
    nb.section("The Jacobian of softmax: diag(p) − p·pᵀ");
    nb.say(
        "How does pᵢ move when sⱼ moves? Differentiating pᵢ = e^(sᵢ)/Z with Z = Σₖ e^(sₖ) by the \
         quotient rule gives ∂pᵢ/∂sⱼ = pᵢ·[i = j] − pᵢ·pⱼ, i.e. J = diag(p) − p·pᵀ. Raising your \
         own score raises your probability (by pᵢ(1 − pᵢ), the sigmoid's derivative again) and \
         lowers everyone else's. We let the tape compute J one row at a time: row i is the \
         gradient of pᵢ with respect to s, from tapegrad::grad. Then we build diag(p) − p·pᵀ by \
         hand from the probabilities alone.",
    );
    let s_leaf = last.detach().requires_grad_(true);
    let c = base.len();
    let mut tape_j = vec![0.0; c * c];
    for i in 0..c {
        let p_i = s_leaf.softmax(0).narrow(0, i as isize, 1).sum();
        let row = grad(&[&p_i], &[&s_leaf], false).unwrap_or_else(|e| fail(&e.to_string()));
        tape_j[i * c..(i + 1) * c].copy_from_slice(&row[0].to_vec::<f64>());
    }
    let hand_j: Vec<f64> = (0..c * c)
        .map(|k| {
            let (i, j) = (k / c, k % c);
            base[i] * f64::from(u8::from(i == j)) - base[i] * base[j]
        })
        .collect();
    let max_diff = tape_j
        .iter()
        .zip(&hand_j)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    nb.say(&format!(
        "For the last flower, p = ({:.4}, {:.4}, {:.4}). Row i of each matrix is ∂pᵢ/∂s:",
        base[0], base[1], base[2]
    ));
    let jac_rows: Vec<Vec<String>> = (0..c)
        .map(|i| {
            let mut row = vec![format!("∂p_{}", &CLASSES[i][..3])];
            row.extend((0..c).map(|j| format!("{:+.6}", tape_j[i * c + j])));
            row.push("|".into());
            row.extend((0..c).map(|j| format!("{:+.6}", hand_j[i * c + j])));
            row.push(format!(
                "{:+.1e}",
                tape_j[i * c..(i + 1) * c].iter().sum::<f64>()
            ));
            row
        })
        .collect();
    nb.table(
        &[
            "",
            "tape ∂s_set",
            "∂s_ver",
            "∂s_vir",
            "",
            "hand ∂s_set",
            "∂s_ver",
            "∂s_vir",
            "row sum",
        ],
        &jac_rows,
    );
    nb.say(
        "Both are symmetric, and every row sums to zero. Row i summed is how fast pᵢ changes \
         when every score rises at the same rate, the vector (1, 1, 1), and adding the same \
         amount to every score changes no probability: J·(1, 1, 1) = 0, and up to scale \
         (1, 1, 1) is the only direction J sends to zero. The columns sum to zero too, for \
         another reason: the probabilities always sum to 1, so moving the scores can only move \
         probability from one class to another.",
    );
    nb.result(&format!(
        "softmax Jacobian: max |tape − hand| = {max_diff:.1e}"
    ));
    checks.claim(
        max_diff < 1e-12,
        &format!("the tape's Jacobian is diag(p) − p·pᵀ to 1e-12 (they differ by {max_diff:.1e})"),
    );
    checks.finish();
}

/// The rows of a 2-d tensor as vectors of f64.
fn rows_of(t: &Tensor) -> Vec<Vec<f64>> {
    let cols = t.dims()[1];
    t.to_vec::<f64>()
        .chunks(cols)
        .map(<[f64]>::to_vec)
        .collect()
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
}

/// Stops the notebook when it cannot go on (data missing, an op failing).
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
