#!/usr/bin/env python3
"""Reference fits for kiln's Gaussian-process regression tests (scikit-learn 1.9.1).

    python3 benches/peers/gp_reference.py [--data examples/data]

Reads the shipped CSVs (written by make_reference_data.py) and fits
GaussianProcessRegressor with the kernels of kiln's GP tests, L-BFGS-B from the kernel's
initial hyperparameters (n_restarts_optimizer=0, alpha=1e-10, normalize_y as named). Prints
per set: the fitted kernel, theta (log hyperparameters), the hyperparameters, the log
marginal likelihood, and the RMSE of the predictive mean on the test file, plus the mean
predictive std there.
"""
import argparse
import os

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel as C, Matern, WhiteKernel

SETS = [
    # name, kernel (kiln's notation), the same in scikit-learn, normalize_y
    ("sine", "1.0 * RBF(1.0) + WhiteKernel(0.1)",
     lambda: C(1.0) * RBF(1.0) + WhiteKernel(0.1), False),
    ("sine", "1.0 * Matern(1.0, nu=2.5) + WhiteKernel(0.1)",
     lambda: C(1.0) * Matern(1.0, nu=2.5) + WhiteKernel(0.1), False),
    ("waves", "1.0 * RBF([1, 1, 1, 1, 1]) + WhiteKernel(0.1)",
     lambda: C(1.0) * RBF([1.0] * 5) + WhiteKernel(0.1), True),
]


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "examples", "data"))
    data = ap.parse_args().data
    for name, kiln_kernel, kernel, normalize_y in SETS:
        x, y = load(os.path.join(data, f"{name}-train.csv"))
        xt, yt = load(os.path.join(data, f"{name}-test.csv"))
        gp = GaussianProcessRegressor(kernel(), alpha=1e-10, normalize_y=normalize_y,
                                      n_restarts_optimizer=0, random_state=0).fit(x, y)
        mean, std = gp.predict(xt, return_std=True)
        rmse = float(np.sqrt(np.mean((mean - yt) ** 2)))
        print(f"{name}: kernel \"{kiln_kernel}\", normalize_y {normalize_y}")
        print(f"  fitted {gp.kernel_}")
        print(f"  theta {np.array2string(gp.kernel_.theta, precision=8, separator=', ')}")
        print(f"  hyperparameters {np.array2string(np.exp(gp.kernel_.theta), precision=8, separator=', ')}")
        print(f"  log_marginal_likelihood {gp.log_marginal_likelihood_value_:.8f}")
        print(f"  test rmse {rmse:.6f}, mean std {float(np.mean(std)):.6f}")


if __name__ == "__main__":
    main()
