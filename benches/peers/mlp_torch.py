#!/usr/bin/env python3
"""PyTorch CPU throughput peer for kiln's MLP benchmark (same shapes and schedule).

    THREADS=2 python3 benches/peers/mlp_torch.py [--epochs 5]

Data: make_classification(n_samples=60000, n_features=784, n_informative=50,
n_redundant=0, n_classes=10, n_clusters_per_class=2, class_sep=2.0, random_state=0);
first 50,000 rows train, last 10,000 test; StandardScaler fitted on the training rows
(ddof=0); float32.
Model 784-256(ReLU)-10, cross-entropy, Adam(lr=1e-3), batch 256 (the last, partial batch
of each epoch included: 196 steps), reshuffled every epoch, torch.manual_seed(0), on CPU
with torch.set_num_threads(THREADS) (default 2).

Prints the torch version and thread count, seconds per epoch (training steps only: data
generation, scaling and evaluation are outside the timer), training rows/second (best
epoch and mean over epochs) and the final test accuracy.
"""
import argparse
import os
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

try:
    import torch
    from torch import nn
except ImportError:
    raise SystemExit("torch is missing: pip install torch "
                     "(the CPU-only wheel, where its index is reachable, is much smaller)")

N_TRAIN, N_TEST, BATCH, LR = 50_000, 10_000, 256, 1e-3


def data():
    x, y = make_classification(
        n_samples=N_TRAIN + N_TEST, n_features=784, n_informative=50, n_redundant=0,
        n_classes=10, n_clusters_per_class=2, class_sep=2.0, random_state=0)
    sc = StandardScaler().fit(x[:N_TRAIN])
    f = lambda a: torch.from_numpy(sc.transform(a).astype(np.float32))
    g = lambda a: torch.from_numpy(a.astype(np.int64))
    return f(x[:N_TRAIN]), g(y[:N_TRAIN]), f(x[N_TRAIN:]), g(y[N_TRAIN:])


def train(xtr, ytr, xte, yte, epochs, log=print):
    """Trains the network for `epochs` epochs; returns the seconds of each and the test accuracy."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)

    secs = []
    for epoch in range(1, epochs + 1):
        model.train()
        t = time.perf_counter()
        perm = torch.randperm(N_TRAIN, generator=gen)
        total = 0.0
        for i in range(0, N_TRAIN, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        dt = time.perf_counter() - t
        secs.append(dt)
        log(f"epoch {epoch}: {dt:.3f} s, {N_TRAIN / dt:,.0f} rows/s, "
            f"mean train loss {total / N_TRAIN:.4f}")

    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    return secs, acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    epochs = ap.parse_args().epochs
    threads = int(os.environ.get("THREADS", "2"))
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, epochs {epochs}, "
          f"train {N_TRAIN} x 784, test {N_TEST}, batch {BATCH}")

    t0 = time.perf_counter()
    xtr, ytr, xte, yte = data()
    print(f"data generation + scaling: {time.perf_counter() - t0:.2f} s (not timed below)")

    secs, acc = train(xtr, ytr, xte, yte, epochs)
    best, mean = N_TRAIN / min(secs), N_TRAIN * len(secs) / sum(secs)
    print(f"seconds per epoch: mean {np.mean(secs):.3f}, best {min(secs):.3f}")
    print(f"training rows/s: best epoch {best:,.0f}, mean {mean:,.0f}")
    print(f"test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
