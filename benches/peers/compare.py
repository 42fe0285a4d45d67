#!/usr/bin/env python3
"""kiln against scikit-learn and linfa on the same data, in one run, on this machine.

    python3 benches/peers/compare.py            # OLS, logistic, GLMs, k-means, GMM, RBF SVM, GP
    python3 benches/peers/compare.py --repeat 5 # best of 5 fits each
    python3 benches/peers/compare.py --no-linfa # kiln and scikit-learn only
    python3 benches/peers/compare.py --only glm_poisson glm_gamma glm_poisson_irls glm_gamma_irls

Writes seeded synthetic CSVs (80,000 x 20 regression and 3-class classification, Poisson
counts and Gamma amounts with log-means linear in the features, 100,000 x 10 blobs for k-means and the Gaussian mixture with k = 8) and takes
examples/data/clusters-train.csv (5,000 x 20, two classes) for the RBF SVM and
examples/data/waves-train.csv (1,000 x 5) for Gaussian-process regression (C * RBF with five
length scales + white noise, normalised target), trains each with `kiln train` (flex, the
build the test suite makes), with scikit-learn and with linfa 0.8.1 (the `linfa-peer` binary
of benches/peers/linfa/, f64, pure-Rust linear algebra), and prints one table:

- fit: kiln's `fit_seconds` from the run's summary.json (device synced) against the
  scikit-learn `fit` call alone and linfa's `fit` call alone; k/sk and k/linfa = kiln / peer
  (below 1: kiln is faster);
- whole: the whole `kiln train` process (CSV parsing, run directory) against scikit-learn's
  CSV load + scaling + fit in Python and linfa-peer's CSV load + scaling + fit (in-process);
- quality on the training rows (all fit every row: `valid_fraction = 0`): R², accuracy,
  inertia, mean log-likelihood, log marginal likelihood, mean unit deviance (the GLMs: both
  fit by L-BFGS to scikit-learn's gradient tolerance 1e-4, alpha = 1e-3, so equal deviance means
  equal objective).

linfa's models, features scaled where scikit-learn's are (StandardScaler, ddof 0):
`LinearRegression` (least squares); `MultiLogisticRegression` (alpha 1 = scikit-learn's C = 1,
L-BFGS, at most 100 iterations, gradient tolerance 1e-4 on the summed loss); `KMeans` (k = 8,
one k-means++ run, seed 0, tolerance 1e-4, at most 300 iterations); `GaussianMixtureModel`
(k = 8, full covariances, k-means init (linfa's own 10 k-means runs), seed 0, tolerance 1e-3,
reg_covar 1e-6, at most 100 EM steps); `Svm<f64, bool>` (C = 1, Gaussian kernel with
eps = 1 / gamma, gamma = "scale" = 1 / (n_features * Var(X)), stopping eps 1e-3 as libsvm's
tol, no shrinking: linfa 0.8.1's shrinking panics on this set). linfa has no Gaussian process:
its cells print `-`. linfa's inertia and log-likelihood are computed by linfa-peer from the
fitted centroids / weights, means and precisions, as scikit-learn's `inertia_` and `score`.

Installs scikit-learn with pip when it is missing and builds linfa-peer with cargo (its own
target directory, ~/.cache/kiln-target-linfa; not a member of kiln's workspace). The MLP
against PyTorch is `mlp_torch.py` beside this script and the `mlp_50k_x_784` criterion bench.
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


LINFA = REPO / "benches" / "peers" / "linfa"
# Tasks linfa-peer fits (linfa has no Gaussian process).
LINFA_TASKS = {"ols", "logistic", "kmeans", "gmm", "rbf_svm"}


def ensure_linfa():
    """Builds linfa-peer (release) in its own target directory, never kiln's; returns its path."""
    target = Path.home() / ".cache" / "kiln-target-linfa"
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    command = ["cargo", "build", "--release", "--quiet", "--manifest-path", str(LINFA / "Cargo.toml")]
    try:
        subprocess.run(command, check=True, env=env, stdout=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as error:
        sys.exit(f"building linfa-peer failed ({error}); --no-linfa skips linfa")
    return target / "release" / "linfa-peer"


def linfa_version():
    lock = (LINFA / "Cargo.lock").read_text().split("\n")
    for i, line in enumerate(lock):
        if line == 'name = "linfa"':
            return lock[i + 1].split('"')[1]
    return "?"


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
    eta = 0.5 + x @ (0.2 * rng.standard_normal(20))
    np.savetxt(directory / "counts.csv", np.column_stack([x, rng.poisson(np.exp(eta))]),
               fmt="%.6f", delimiter=",", header=header + ",y", comments="")
    amounts = rng.gamma(2.0, np.exp(eta) / 2.0)
    np.savetxt(directory / "amounts.csv", np.column_stack([x, amounts]), fmt="%.6f",
               delimiter=",", header=header + ",y", comments="")
    xb, yb = make_blobs(n_samples=100_000, n_features=10, centers=8, cluster_std=1.0,
                        random_state=3)
    np.savetxt(directory / "blobs.csv", np.column_stack([xb, yb]), fmt="%.6f", delimiter=",",
               header=",".join(f"x{j}" for j in range(10)) + ",y", comments="")


CONFIGS = {
    "ols": ("reg.csv", 'kind = "linear_regression"', "", "r2"),
    # scikit-learn's solver and stopping rule (lbfgs, tol 1e-4), max_iter as given to it below.
    "logistic": (
        "cls.csv",
        'kind = "logistic_regression"\nsolver = "lbfgs"\nmax_iter = 1000',
        "epochs = 1000",
        "accuracy",
    ),
    # scikit-learn's PoissonRegressor / GammaRegressor: lbfgs, tol 1e-4.
    "glm_poisson": (
        "counts.csv",
        'kind = "glm"\nfamily = "poisson"\nalpha = 0.001\nsolver = "lbfgs"\nmax_iter = 1000',
        "epochs = 1000",
        "deviance",
    ),
    "glm_gamma": (
        "amounts.csv",
        'kind = "glm"\nfamily = "gamma"\nalpha = 0.001\nsolver = "lbfgs"\nmax_iter = 1000',
        "epochs = 1000",
        "deviance",
    ),
    # kiln's IRLS against scikit-learn's Newton solver (newton-cholesky), tol 1e-4.
    "glm_poisson_irls": (
        "counts.csv",
        'kind = "glm"\nfamily = "poisson"\nalpha = 0.001\nsolver = "irls"\nmax_iter = 1000',
        "epochs = 1000",
        "deviance",
    ),
    "glm_gamma_irls": (
        "amounts.csv",
        'kind = "glm"\nfamily = "gamma"\nalpha = 0.001\nsolver = "irls"\nmax_iter = 1000',
        "epochs = 1000",
        "deviance",
    ),
    # LinearSVC's loss (squared hinge), C = 1, tol 1e-4, one-vs-rest on the 3 classes; kiln by
    # L-BFGS on the primal. liblinear also penalises the intercept, kiln does not.
    "linear_svm": (
        "cls.csv",
        'kind = "linear_svm"\nsolver = "lbfgs"\nmax_iter = 1000',
        "epochs = 1000",
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
    from sklearn.linear_model import (GammaRegressor, LinearRegression, LogisticRegression,
                                      PoissonRegressor)
    from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

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
            "glm_poisson": lambda: PoissonRegressor(alpha=1e-3, max_iter=1000),
            "glm_gamma": lambda: GammaRegressor(alpha=1e-3, max_iter=1000),
            "glm_poisson_irls": lambda: PoissonRegressor(
                alpha=1e-3, solver="newton-cholesky", max_iter=1000),
            "glm_gamma_irls": lambda: GammaRegressor(
                alpha=1e-3, solver="newton-cholesky", max_iter=1000),
            "linear_svm": lambda: LinearSVC(),
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
            model.fit(x, y.astype(int) if task in ("logistic", "linear_svm", "rbf_svm") else y)
        fit = time.perf_counter() - fit_start
        whole = time.perf_counter() - start
        quality = {
            "r2": lambda: model.score(x, y),
            "accuracy": lambda: model.score(x, y.astype(int)),
            "inertia": lambda: model.inertia_,
            "log_likelihood": lambda: model.score(x),
            "log_marginal_likelihood": lambda: model.log_marginal_likelihood_value_,
            "deviance": lambda: (mean_poisson_deviance if task.startswith("glm_poisson")
                                 else mean_gamma_deviance)(y, model.predict(x)),
        }[metric]()
        result = (fit, whole, quality)
        best = result if best is None or result[0] < best[0] else best
    return best


def run_linfa(binary, directory, task, repeat):
    """(fit, whole, quality) from linfa-peer, or None where linfa has no such model or it failed."""
    if binary is None or task not in LINFA_TASKS:
        return None
    data = CONFIGS[task][0]
    out = subprocess.run([str(binary), task, str(directory / data), "--repeat", str(repeat)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"linfa-peer {task} failed: {out.stderr.strip()}", file=sys.stderr)
        return None
    result = json.loads(out.stdout)
    return result["fit"], result["whole"], result["quality"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fits per tool; the fastest counts")
    parser.add_argument("--no-linfa", action="store_true", help="skip linfa (no cargo build of it)")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), metavar="TASK",
                        help=f"these tasks only (of {', '.join(CONFIGS)})")
    args = parser.parse_args()
    ensure_sklearn()
    import sklearn

    linfa = None if args.no_linfa else ensure_linfa()
    kiln = kiln_binary()
    threads = os.cpu_count()
    peers = f"scikit-learn {sklearn.__version__}"
    if linfa is not None:
        peers += f", linfa {linfa_version()}"
    print(f"{peers}, {threads} CPU threads, kiln on flex, best of {args.repeat}, seconds")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_data(directory)
        for shipped in ("clusters-train.csv", "waves-train.csv"):
            shutil.copy(REPO / "examples/data" / shipped, directory)
        header = f"{'task':<10}{'kiln fit':>10}{'sk fit':>8}{'k/sk':>6}"
        if linfa is not None:
            header += f"{'linfa fit':>11}{'k/linfa':>9}"
        header += f"{'kiln whole':>12}{'sk whole':>10}"
        if linfa is not None:
            header += f"{'linfa whole':>13}"
        header += "   quality (kiln / scikit-learn" + (" / linfa)" if linfa is not None else ")")
        print(header)
        for task in args.only or CONFIGS:
            k_fit, k_whole, k_q = run_kiln(kiln, directory, task, args.repeat)
            s_fit, s_whole, s_q = run_sklearn(directory, task, args.repeat)
            lin = run_linfa(linfa, directory, task, args.repeat)
            metric = CONFIGS[task][3]
            row = f"{task:<10}{k_fit:>10.3f}{s_fit:>8.3f}{k_fit / s_fit:>6.2f}"
            if linfa is not None:
                row += f"{lin[0]:>11.3f}{k_fit / lin[0]:>9.2f}" if lin else f"{'-':>11}{'-':>9}"
            row += f"{k_whole:>12.2f}{s_whole:>10.2f}"
            if linfa is not None:
                row += f"{lin[1]:>13.2f}" if lin else f"{'-':>13}"
            row += f"   {metric} {k_q:.4f} / {s_q:.4f}"
            if linfa is not None:
                row += f" / {lin[2]:.4f}" if lin else " / -"
            print(row, flush=True)


if __name__ == "__main__":
    main()
