#!/usr/bin/env python3
"""Issue 7's workloads W1-W5 in PyTorch (CPU), for side-by-side ratios.

    python bench/torch_bench.py            # every workload, 1 and 2 threads
    python bench/torch_bench.py W3 W5      # only some
    python bench/torch_bench.py --quick    # fewer repeats (bench/compare.py)

Each case is warmed up, then timed; the table gives the median and the
min-max range. Every case also prints (to stderr) a machine-readable line
``RESULT <case> <threads> <median_s> <min_s> <max_s>`` with the same case
names as ``benches/engine.rs`` (seconds per iteration; W3: per recorded op).

Data is synthetic and seeded. PyTorch is never a dependency of the crate:
this script is only run by hand or by bench/compare.py.
"""

import math
import random
import statistics
import sys
import time

import torch
import torch.nn.functional as F

QUICK = "--quick" in sys.argv
SELECTED = [a for a in sys.argv[1:] if a.startswith("W")]


def wants(name):
    return not SELECTED or name in SELECTED


def reps(full):
    return max(5, -(-full // 3)) if QUICK else full


def timeit(fn, warmup, n):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples


def human(s):
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e3:.3f} ms"


def row(case_id, label, threads, samples, scale=1.0, flops=None):
    s = [v * scale for v in samples]
    med, lo, hi = statistics.median(s), s[0], s[-1]
    if flops:
        g = lambda t: flops / t / 1e9
        fig = f"{g(med):.1f} GFLOP/s ({human(med)}) | {g(hi):.1f} – {g(lo):.1f} GFLOP/s"
    else:
        fig = f"{human(med)} | {human(lo)} – {human(hi)}"
    print(f"| {label} | {threads} | {fig} | {len(s)} |", flush=True)
    print(f"RESULT {case_id} {threads} {med:e} {lo:e} {hi:e}", file=sys.stderr, flush=True)


# --- W1: softmax regression, full batch ------------------------------------
def w1(threads):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1797, 64, generator=g)
    y = torch.randint(0, 10, (1797,), generator=g)
    w = (torch.randn(64, 10, generator=g) * 0.01).requires_grad_()
    b = torch.zeros(10, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(x @ w + b, y)
        loss.backward()
        opt.step()

    row("W1", "W1 softmax regression step 1797×64→10", threads, timeit(step, 20, reps(201)))


# --- W2: MLP 784-256-128-10, SGD momentum ----------------------------------
def w2(threads):
    for batch, n in ((64, 301), (512, 61)):
        torch.manual_seed(2)
        model = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10),
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 784)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

        row(f"W2-{batch}", f"W2 MLP 784-256-128-10 step, batch {batch}", threads,
            timeit(step, 10, reps(n)))


# --- W3: per-op overhead ----------------------------------------------------
def w3(threads):
    torch.manual_seed(0)
    x = torch.randn(16, requires_grad=True)

    def chain():
        y = x
        for _ in range(1000):
            y = (y * 0.9 + 0.1).tanh()
        y.sum().backward()
        x.grad = None

    row("W3", "W3 per recorded op, [16] f32, fwd+bwd", threads,
        timeit(chain, 3, reps(21)), scale=1 / 3000)


# --- W4: matmul ------------------------------------------------------------
def w4(threads):
    for n, k in ((256, 101), (512, 31), (1024, 11)):
        g = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        with torch.no_grad():
            s = timeit(lambda: torch.mm(a, b), 3, reps(k))
        row(f"W4-{n}", f"W4 matmul f32 n={n}", threads, s, flops=2.0 * n**3)


# --- W5: micrograd's MLP(3, [4, 4, 1]) --------------------------------------
def w5(threads):
    g = torch.Generator().manual_seed(5)
    sizes = [3, 4, 4, 1]
    params = []
    for i, o in zip(sizes, sizes[1:]):
        params.append(((torch.rand(i, o, generator=g) * 2 - 1).requires_grad_(),
                       (torch.rand(o, generator=g) * 2 - 1).requires_grad_()))
    x = torch.tensor([2.0, 3.0, -1.0])

    def step():
        for w, b in params:
            w.grad = None
            b.grad = None
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = h.tanh()
        h.backward()  # shape [1]: one element, seed 1

    row("W5", "W5 MLP(3,[4,4,1]) fwd+bwd, PyTorch tensors", threads,
        timeit(step, 200, reps(2001)))


# A minimal pure-Python scalar engine written after micrograd's
# engine.py/nn.py (Karpathy, MIT): the baseline the 217 µs refers to.
class Value:
    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data, children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for c in v._prev:
                    build(c)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


class Neuron:
    def __init__(self, nin, nonlin, rng):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, nin, nouts, rng):
        sz = [nin] + nouts
        self.layers = [[Neuron(sz[i], i != len(nouts) - 1, rng) for _ in range(sz[i + 1])]
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def w5_micrograd():
    model = MLP(3, [4, 4, 1], random.Random(5))
    x = [2.0, 3.0, -1.0]

    def step():
        for p in model.parameters():
            p.grad = 0.0
        model(x).backward()

    row("W5-micrograd", "W5 MLP(3,[4,4,1]) fwd+bwd, micrograd-style pure Python", 1,
        timeit(step, 20, reps(201)))


def main():
    print(f"# PyTorch {torch.__version__}, {'quick' if QUICK else 'full'} run")
    print("| case | threads | median | range (min – max) | reps |")
    print("|---|---|---|---|---|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        if wants("W1"):
            w1(threads)
        if wants("W2"):
            w2(threads)
        if threads == 1:
            # Tiny tensors: PyTorch never parallelises them; 1 thread only.
            if wants("W3"):
                w3(threads)
            if wants("W5"):
                w5(threads)
                w5_micrograd()
        if wants("W4"):
            w4(threads)


if __name__ == "__main__":
    main()
