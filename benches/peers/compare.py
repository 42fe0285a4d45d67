#!/usr/bin/env python3
"""kiln against scikit-learn on the same data, in one run, on this machine.

    python3 benches/peers/compare.py            # OLS, logistic, k-means, GMM, RBF SVM, GP
    python3 benches/peers/compare.py --repeat 5 # best of 5 fits each

Writes seeded synthetic CSVs (80,000 x 20 regression and 3-class classification,
100,000 x 10 blobs for k-means and the Gaussian mixture with k = 8) and takes
examples/data/clusters-train.csv (5,000 x 20, two classes) for the RBF SVM and
examples/data/waves-train.csv (1,000 x 5) for Gaussian-process regression (C * RBF with five
length scales + white noise, normalised target), trains each with `kiln train` (flex, the
build the test suite makes) and with scikit-learn, and prints one table:

- fit: kiln's `fit_seconds` from the run's summary.json (device synced) against the
  scikit-learn `fit` call alone; ratio = kiln / scikit-learn (below 1: kiln is faster);
- whole: the whole `kiln train` process (CSV parsing, run directory) against scikit-learn's
  CSV load + scaling + fit in Python;
- quality on the training rows (both fit every row: `valid_fraction = 0`): R², accuracy,
  inertia, mean log-likelihood, log marginal likelihood.

Installs scikit-learn with pip when it is missing. The MLP against PyTorch is
`mlp_torch.py` beside this script and the `mlp_50k_x_784` criterion bench.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "scikit-learn"], check=True)


def kiln_binary():
    """The `kiln` of the test build (same features, so no second build of burn)."""
    script = (
        "source scripts/env.sh && cargo test --release --workspace "
        "--features kiln-trainer/ndarray,kiln-trainer/wgpu --no-run >&2 && echo $CARGO_TARGET_DIR"
    )
    out = subprocess.run(["bash", "-c", script], cwd=REPO, check=True, capture_output=True, text=True)
    return Path(out.stdout.strip()) / "release" / "kiln"


def write_data(directory):
    import numpy as np
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(0)
    x = rng.standard_normal((80_000, 20)).astype(np.float32)
    w = rng.standard_normal(20)
    y = x @ w + 3.0 + 0.5 * rng.standard_normal(80_000)
    header = ",".join(f"x{j}" for j in range(20))
    np.savetxt(directory / "reg.csv", np.column_stack([x, y]), fmt="%.6f", delimiter=",",
               header=header + ",y", comments="")
    scores = x @ rng.standard_normal((20, 3))
    p = np.exp(scores - scores.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = (p.cumsum(1) > rng.random((80_000, 1))).argmax(1)
    np.savetxt(directory / "cls.csv", np.column_stack([x, labels]), fmt="%.6f", delimiter=",",
               header=header + ",y", comments="")
    xb, yb = make_blobs(n_samples=100_000, n_features=10, centers=8, cluster_std=1.0,
                        random_state=3)
    np.savetxt(directory / "blobs.csv", np.column_stack([xb, yb]), fmt="%.6f", delimiter=",",
               header=",".join(f"x{j}" for j in range(10)) + ",y", comments="")


CONFIGS = {
    "ols": ("reg.csv", 'kind = "linear_regression"', "", "r2"),
    "logistic": (
        "cls.csv",
        'kind = "logistic_regression"',
        'epochs = 5\nbatch_size = 256\noptimizer = { kind = "adam", learning_rate = 0.01 }',
        "accuracy",
    ),
    "kmeans": ("blobs.csv", 'kind = "kmeans"\nk = 8\nn_init = 1', "epochs = 300", "inertia"),
    "gmm": ("blobs.csv", 'kind = "gmm"\nk = 8', "epochs = 300", "log_likelihood"),
    "rbf_svm": ("clusters-train.csv", 'kind = "kernel_svm"', "epochs = 1000", "accuracy"),
    "gp": (
        "waves-train.csv",
        'kind = "gaussian_process"\nkernel = "1.0 * RBF([1, 1, 1, 1, 1]) + WhiteKernel(0.1)"\n'
        "normalize_y = true",
        "epochs = 1000",
        "log_marginal_likelihood",
    ),
}
# Clusterings and the kernel models see raw features (scikit-learn's defaults), the rest scaled.
RAW = {"kmeans", "gmm", "rbf_svm", "gp"}


def run_kiln(kiln, directory, task, repeat):
    data, model, train, metric = CONFIGS[task]
    standardize = "false" if task in RAW else "true"
    target = "label" if task == "rbf_svm" else "y"
    config = directory / f"{task}.toml"
    config.write_text(
        f'[data]\ntrain = "{data}"\ntarget = "{target}"\nvalid_fraction = 0\nstandardize = {standardize}\n'
        f"[model]\n{model}\n[train]\n{train}\n"
    )
    best = None
    for i in range(repeat):
        out = directory / f"run-{task}-{i}"
        start = time.perf_counter()
        subprocess.run([str(kiln), "train", str(config), "--out", str(out)], check=True,
                       capture_output=True)
        whole = time.perf_counter() - start
        summary = json.loads((out / "summary.json").read_text())
        result = (summary["fit_seconds"], whole, summary["train"][metric])
        best = result if best is None or result[0] < best[0] else best
    return best


def run_sklearn(directory, task, repeat):
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    data, _, _, metric = CONFIGS[task]
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        table = np.loadtxt(directory / data, delimiter=",", skiprows=1, dtype=np.float32)
        x, y = table[:, :-1], table[:, -1]
        if task not in RAW:
            x = StandardScaler().fit_transform(x)
        model = {
            "ols": lambda: LinearRegression(),
            "logistic": lambda: LogisticRegression(max_iter=1000),
            "kmeans": lambda: KMeans(8, n_init=1, random_state=0),
            "gmm": lambda: GaussianMixture(8, random_state=0),
            "rbf_svm": lambda: SVC(),
            "gp": lambda: GaussianProcessRegressor(
                ConstantKernel(1.0) * RBF([1.0] * 5) + WhiteKernel(0.1), normalize_y=True
            ),
        }[task]()
        fit_start = time.perf_counter()
        if task in ("kmeans", "gmm"):
            model.fit(x)
        else:
            model.fit(x, y if task in ("ols", "gp") else y.astype(int))
        fit = time.perf_counter() - fit_start
        whole = time.perf_counter() - start
        quality = {
            "r2": lambda: model.score(x, y),
            "accuracy": lambda: model.score(x, y.astype(int)),
            "inertia": lambda: model.inertia_,
            "log_likelihood": lambda: model.score(x),
            "log_marginal_likelihood": lambda: model.log_marginal_likelihood_value_,
        }[metric]()
        result = (fit, whole, quality)
        best = result if best is None or result[0] < best[0] else best
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fits per tool; the fastest counts")
    args = parser.parse_args()
    ensure_sklearn()
    import sklearn

    kiln = kiln_binary()
    threads = os.cpu_count()
    print(f"scikit-learn {sklearn.__version__}, {threads} CPU threads, kiln on flex, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_data(directory)
        for shipped in ("clusters-train.csv", "waves-train.csv"):
            shutil.copy(REPO / "examples/data" / shipped, directory)
        print(f"{'task':<10}{'kiln fit s':>11}{'sk fit s':>10}{'ratio':>7}"
              f"{'kiln whole':>11}{'sk whole':>10}   quality (kiln / scikit-learn)")
        for task in CONFIGS:
            k_fit, k_whole, k_q = run_kiln(kiln, directory, task, args.repeat)
            s_fit, s_whole, s_q = run_sklearn(directory, task, args.repeat)
            metric = CONFIGS[task][3]
            print(f"{task:<10}{k_fit:>11.3f}{s_fit:>10.3f}{k_fit / s_fit:>7.2f}"
                  f"{k_whole:>11.2f}{s_whole:>10.2f}   {metric} {k_q:.4f} / {s_q:.4f}")


if __name__ == "__main__":
    main()
