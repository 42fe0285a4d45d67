#!/usr/bin/env python3
"""kiln against PyTorch CPU on the issue's MLP, interleaved in one run so the ratio holds on a
noisy machine.

    python3 benches/peers/mlp_compare.py [--rounds 3] [--epochs 3]

The task is mlp_torch.py's: make_classification(60,000 × 784, 50 informative, 10 classes,
2 clusters per class, class_sep 2, random_state 0), the first 50,000 rows scaled and trained on,
the last 10,000 tested; 784-256(ReLU)-10, cross-entropy, Adam lr 1e-3, batch 256, reshuffled
every epoch. kiln reads the same scaled float32 rows from a CSV (written once, with 9
significant digits so every value reads back exactly, cached in ~/.cache/kiln-peers/), with
`standardize = false`.

Each round trains PyTorch for `--epochs` epochs in this process (2 threads, or $THREADS), then
`kiln train` for as many on flex (2 cores) as a subprocess; kiln's per-epoch seconds come from
its metrics.jsonl. Both time training steps only: kiln's CSV load and final metrics, and
PyTorch's data generation, are outside. The first epoch of each run is a warm-up and is left
out of the medians. Prints per-epoch seconds of each round, then the median and best epoch of
each tool, the ratio kiln rows/s ÷ PyTorch rows/s, and both test accuracies (kiln's from
`kiln eval` of the last run).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (kiln_binary: the test build's kiln)
import mlp_torch  # noqa: E402  (the data and PyTorch's training loop)

CACHE = Path.home() / ".cache" / "kiln-peers"


def write_csv(path, x, y):
    """Rows of `x` then the class, 9 significant digits (float32 round-trips exactly)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    header = ",".join(f"x{j}" for j in range(x.shape[1])) + ",y"
    with open(partial, "w") as f:
        f.write(header + "\n")
        for start in range(0, len(x), 5_000):
            rows = x[start:start + 5_000]
            labels = y[start:start + 5_000]
            f.write("".join(
                ",".join(f"{v:.9g}" for v in row) + f",{c}\n" for row, c in zip(rows, labels)))
    partial.rename(path)


def kiln_config(directory, train_csv, epochs):
    config = directory / "mlp.toml"
    config.write_text(
        f'backend = "flex"\nseed = 0\n'
        f'[data]\ntrain = "{train_csv}"\ntarget = "y"\nvalid_fraction = 0\nstandardize = false\n'
        f'[model]\nkind = "mlp"\ntask = "classification"\nhidden = [256]\nactivation = "relu"\n'
        f"dropout = 0.0\n"
        f'[train]\nepochs = {epochs}\nbatch_size = 256\n'
        f'optimizer = {{ kind = "adam", learning_rate = 0.001 }}\ncheckpoint_every = 0\n'
    )
    return config


def run_kiln(kiln, config, out):
    subprocess.run([str(kiln), "train", str(config), "--out", str(out)], check=True,
                   capture_output=True)
    elapsed = [json.loads(line)["elapsed_seconds"]
               for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [b - a for a, b in zip([0.0] + elapsed, elapsed)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    threads = int(os.environ.get("THREADS", "2"))
    mlp_torch.torch.set_num_threads(threads)

    kiln = compare.kiln_binary()
    xtr, ytr, xte, yte = mlp_torch.data()
    train_csv = CACHE / "mlp-train-v1.csv"
    test_csv = CACHE / "mlp-test-v1.csv"
    write_csv(train_csv, xtr.numpy(), ytr.numpy())
    write_csv(test_csv, xte.numpy(), yte.numpy())
    print(f"torch {mlp_torch.torch.__version__} ({mlp_torch.torch.get_num_threads()} threads) "
          f"against kiln on flex ({os.cpu_count()} cores); {args.rounds} rounds of "
          f"{args.epochs} epochs each; seconds per epoch of 50,000 rows")

    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = kiln_config(directory, train_csv, args.epochs)
        torch_epochs, kiln_epochs = [], []
        for r in range(1, args.rounds + 1):
            t_secs, t_acc = mlp_torch.train(xtr, ytr, xte, yte, args.epochs, log=lambda _: None)
            out = directory / f"run-{r}"
            k_secs = run_kiln(kiln, config, out)
            torch_epochs += t_secs[1:]
            kiln_epochs += k_secs[1:]
            fmt = lambda secs: " ".join(f"{s:.3f}" for s in secs)
            print(f"round {r}: torch {fmt(t_secs)} | kiln {fmt(k_secs)}", flush=True)
        evaluated = subprocess.run(
            [str(kiln), "eval", "--model", str(out), "--data", str(test_csv), "--json"],
            check=True, capture_output=True, text=True)
        k_acc = json.loads(evaluated.stdout)["accuracy"]

    t_med, k_med = statistics.median(torch_epochs), statistics.median(kiln_epochs)
    t_best, k_best = min(torch_epochs), min(kiln_epochs)
    print(f"torch: median {t_med:.3f} s, best {t_best:.3f} s ({50_000 / t_med:,.0f} rows/s "
          f"median); test accuracy after {args.epochs} epochs {t_acc:.4f}")
    print(f"kiln:  median {k_med:.3f} s, best {k_best:.3f} s ({50_000 / k_med:,.0f} rows/s "
          f"median); test accuracy after {args.epochs} epochs {k_acc:.4f}")
    print(f"kiln throughput / torch throughput: median {t_med / k_med:.2f}, "
          f"best {t_best / k_best:.2f}")


if __name__ == "__main__":
    main()
