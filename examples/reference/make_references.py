"""PyTorch references for the three real-data examples.

For each training case of examples/support/fit.rs (binary_logistic_regression,
softmax_regression on iris and digits, mlp_digits) this script

1. asks the example itself for its initial weights at seed 0
   (`cargo run --release --example <name> -- --save-init examples/reference`,
   which writes `<case>.init.safetensors`), so PyTorch starts from exactly the
   weights tapegrad starts from;
2. loads the CSV, splits it (first n_train rows = train) and standardises it
   with the training rows' mean and population std (std 0 -> 1), as
   data/README.md prescribes. Features are rounded to float32 first, because
   tapegrad reads them as float32 and fits the statistics on those values;
3. trains the same model (nn.Linear, or nn.Sequential(Linear, ReLU, Linear))
   with the same loss and torch.optim.SGD settings, full batch, float32: each
   epoch is zero_grad -> forward on all training rows -> loss -> backward ->
   step, and records the loss and training accuracy of that forward pass,
   plus the test accuracy after the step;
4. fits scikit-learn's LogisticRegression() (C=1, lbfgs, multinomial) on the
   same standardised data, as an independent point of comparison for the
   accuracy floors;
5. writes examples/reference/<case>.json.

Run from the repository root:

    /work/torch-venv/bin/python examples/reference/make_references.py

(made with torch 2.15.0, numpy 2.4.6, scikit-learn 1.9.1, safetensors 0.8.0)
"""
import json
import subprocess

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression

OUT = "examples/reference"
SEED = 0
N_TRAIN = {"iris": 120, "breast_cancer": 454, "digits": 1433}

# Must match the constants in examples/support/fit.rs (tests/examples_reference.rs checks).
CASES = [
    dict(name="breast_cancer_logistic", example="binary_logistic_regression", dataset="breast_cancer",
         sizes=[30, 1], loss="bce_of_sigmoid", epochs=100, lr=0.5, momentum=0.0),
    dict(name="iris_softmax", example="softmax_regression", dataset="iris",
         sizes=[4, 3], loss="cross_entropy", epochs=100, lr=0.5, momentum=0.0),
    dict(name="digits_softmax", example="softmax_regression", dataset="digits",
         sizes=[64, 10], loss="cross_entropy", epochs=100, lr=0.5, momentum=0.0),
    dict(name="digits_mlp", example="mlp_digits", dataset="digits",
         sizes=[64, 64, 10], loss="cross_entropy", epochs=200, lr=0.1, momentum=0.9),
]


def load(name):
    data = np.loadtxt(f"data/{name}.csv", delimiter=",", skiprows=1)
    x = data[:, :-1].astype(np.float32).astype(np.float64)
    y = data[:, -1]
    n = N_TRAIN[name]
    mean = x[:n].mean(axis=0)
    std = x[:n].std(axis=0)  # ddof=0
    std[std == 0] = 1.0
    x = (x - mean) / std
    return x[:n], y[:n], x[n:], y[n:]


def model_for(sizes):
    if len(sizes) == 2:
        return torch.nn.Linear(sizes[0], sizes[1])
    return torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
                               torch.nn.Linear(sizes[1], sizes[2]))


def loss_and_acc(kind, out, y):
    if kind == "bce_of_sigmoid":
        z = out.squeeze(1)
        return F.binary_cross_entropy(torch.sigmoid(z), y), ((z > 0).float() == y).float().mean().item()
    return F.cross_entropy(out, y.long()), (out.argmax(1).float() == y).float().mean().item()


def main():
    for example in sorted({c["example"] for c in CASES}):
        subprocess.run(["cargo", "run", "--release", "--quiet", "--example", example, "--",
                        "--seed", str(SEED), "--save-init", OUT], check=True)
    for case in CASES:
        xtr, ytr, xte, yte = load(case["dataset"])
        t = lambda a: torch.tensor(a, dtype=torch.float32)
        Xtr, Ytr, Xte, Yte = t(xtr), t(ytr), t(xte), t(yte)
        model = model_for(case["sizes"])
        init = f"{case['name']}.init.safetensors"
        model.load_state_dict(load_file(f"{OUT}/{init}"))
        opt = torch.optim.SGD(model.parameters(), lr=case["lr"], momentum=case["momentum"])
        train_loss, train_acc, test_acc = [], [], []
        for _ in range(case["epochs"]):
            opt.zero_grad()
            loss, acc = loss_and_acc(case["loss"], model(Xtr), Ytr)
            train_loss.append(loss.item())
            train_acc.append(acc)
            loss.backward()
            opt.step()
            with torch.no_grad():
                test_acc.append(loss_and_acc(case["loss"], model(Xte), Yte)[1])
        sk = LogisticRegression(max_iter=10000).fit(xtr, ytr.astype(int))
        ref = dict(case, seed=SEED, init=init, dtype="float32", n_train=len(ytr), n_test=len(yte),
                   final_train_loss=train_loss[-1], final_test_acc=test_acc[-1],
                   sklearn_logistic_regression_test_acc=sk.score(xte, yte.astype(int)),
                   versions=dict(torch=torch.__version__, numpy=np.__version__,
                                 sklearn=sklearn.__version__),
                   train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
        with open(f"{OUT}/{case['name']}.json", "w") as f:
            json.dump(ref, f, indent=1)
        quick = case["epochs"] // 4
        print(f"{case['name']}: loss {train_loss[0]:.4f} -> {train_loss[-1]:.6f}, "
              f"test acc {test_acc[-1]:.4f} (after {quick} epochs: {test_acc[quick - 1]:.4f}), "
              f"sklearn {ref['sklearn_logistic_regression_test_acc']:.4f}")


if __name__ == "__main__":
    main()
