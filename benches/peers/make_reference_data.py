#!/usr/bin/env python3
"""Write the reference data sets used by kiln's GLM, SVM and digits tests.

Deterministic and rerunnable (fixed seeds; scikit-learn 1.9.1, numpy 2.x):

    python3 benches/peers/make_reference_data.py [--out examples/data]

Writes
  digits.csv        scikit-learn's load_digits(), 1,797 x 64 pixels (0-16) + `digit`
  claims.csv        synthetic Poisson counts, 2,000 x 4 + `claims`
  claim-costs.csv   synthetic Gamma costs, 2,000 x 4 + `cost` (thousands)
  margin-train.csv  make_classification(..., random_state=7), first 4,000 rows
  margin-test.csv   the last 1,000 rows
  clusters-{train,test}.csv  make_classification(..., random_state=11), 5,000 + 1,000 rows
  sine-{train,test}.csv      sin(x) + 0.3 noise on x in [0, 10], 200 + 200 rows
  waves-{train,test}.csv     sin(2x0) + cos(1.5x1) + sin(x2 x3) + 0.5 sin(3x4) + 0.1 noise,
                             x uniform on [-2, 2]^5, 1,000 + 200 rows

Synthetic targets: the linear predictor eta is linear in the features standardized with
the population std (ddof=0) of all rows, i.e. exactly what StandardScaler on the whole
file gives, so the GLMs in glm_reference.py are well specified.
"""
import argparse
import os

import numpy as np
from sklearn import datasets

SEED = 20240611


def write_csv(path, header, columns, fmts):
    """columns: list of 1-D arrays; fmts: one printf format per column."""
    n = len(columns[0])
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for i in range(n):
            f.write(",".join(fmt % col[i] for fmt, col in zip(fmts, columns)) + "\n")
    print(f"wrote {path}: {n} rows x {len(header)} columns")


def standardize(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)  # ddof=0, as StandardScaler


def digits(out):
    d = datasets.load_digits()
    x = d.data.astype(np.int64)
    assert np.array_equal(x, d.data)
    cols = [x[:, j] for j in range(64)] + [d.target.astype(np.int64)]
    header = [f"p{j}" for j in range(64)] + ["digit"]
    write_csv(os.path.join(out, "digits.csv"), header, cols, ["%d"] * 65)


def claims(out, rng):
    n = 2000
    age = rng.integers(18, 80, size=n).astype(float)                 # years
    vehicle_power = rng.integers(4, 16, size=n).astype(float)        # tax horsepower
    density = np.round(np.exp(rng.normal(6.0, 0.6, size=n)))          # inhabitants / km^2
    bonus = np.clip(np.round(rng.normal(80, 15, size=n)), 50, 150)    # bonus-malus level
    x = np.column_stack([age, vehicle_power, density, bonus])
    eta = -1.0 + standardize(x) @ np.array([-0.3, 0.15, 0.2, 0.45])
    y = rng.poisson(np.exp(eta))
    cols = [age, vehicle_power, density, bonus, y]
    write_csv(os.path.join(out, "claims.csv"),
              ["age", "vehicle_power", "density", "bonus", "claims"], cols,
              ["%.6g"] * 4 + ["%d"])


def claim_costs(out, rng):
    n = 2000
    age = rng.integers(18, 80, size=n).astype(float)                 # driver age, years
    vehicle_age = rng.integers(0, 20, size=n).astype(float)          # years
    vehicle_power = rng.integers(4, 16, size=n).astype(float)        # tax horsepower
    density = np.round(np.exp(rng.normal(6.0, 0.6, size=n)))          # inhabitants / km^2
    x = np.column_stack([age, vehicle_age, vehicle_power, density])
    eta = 0.5 + standardize(x) @ np.array([0.1, -0.25, 0.4, 0.2])
    shape = 2.0
    mu = np.exp(eta)
    y = rng.gamma(shape, mu / shape)                                  # mean mu, var mu^2/2
    cols = [age, vehicle_age, vehicle_power, density, y]
    write_csv(os.path.join(out, "claim-costs.csv"),
              ["age", "vehicle_age", "vehicle_power", "density", "cost"], cols,
              ["%.6g"] * 5)


def margin(out):
    x, y = datasets.make_classification(
        n_samples=5000, n_features=10, n_informative=6, n_redundant=2,
        n_clusters_per_class=1, flip_y=0.03, class_sep=1.5, random_state=7)
    header = [f"x{j}" for j in range(10)] + ["label"]
    fmts = ["%.6g"] * 10 + ["%d"]
    for name, sl in (("margin-train.csv", slice(0, 4000)), ("margin-test.csv", slice(4000, 5000))):
        cols = [x[sl, j] for j in range(10)] + [y[sl]]
        write_csv(os.path.join(out, name), header, cols, fmts)


def clusters(out):
    """Two classes of two clusters each in 20 dimensions, 3% of labels flipped: not linearly
    separable (the kernel SVM's data set)."""
    x, y = datasets.make_classification(
        n_samples=6000, n_features=20, n_informative=8, n_redundant=4,
        n_clusters_per_class=2, flip_y=0.03, class_sep=1.0, random_state=11)
    header = [f"x{j}" for j in range(20)] + ["label"]
    fmts = ["%.5g"] * 20 + ["%d"]
    for name, sl in (("clusters-train.csv", slice(0, 5000)), ("clusters-test.csv", slice(5000, 6000))):
        cols = [x[sl, j] for j in range(20)] + [y[sl]]
        write_csv(os.path.join(out, name), header, cols, fmts)


def sine(out):
    """A noisy sine on [0, 10] (the 1-D Gaussian-process set): 200 training rows, 200 test rows."""
    rng = np.random.default_rng(3)
    for name, n in (("sine-train.csv", 200), ("sine-test.csv", 200)):
        x = rng.uniform(0.0, 10.0, n)
        y = np.sin(x) + 0.3 * rng.standard_normal(n)
        write_csv(os.path.join(out, name), ["x", "y"], [x, y], ["%.6g", "%.6g"])


def waves(out):
    """A smooth 5-D function plus noise 0.1 (the 5-D Gaussian-process set), x uniform on
    [-2, 2]^5: 1,000 training rows, 200 test rows."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-2.0, 2.0, (1200, 5))
    y = (np.sin(2 * x[:, 0]) + np.cos(1.5 * x[:, 1]) + np.sin(x[:, 2] * x[:, 3])
         + 0.5 * np.sin(3 * x[:, 4]) + 0.1 * rng.standard_normal(1200))
    header = [f"x{j}" for j in range(5)] + ["y"]
    for name, sl in (("waves-train.csv", slice(0, 1000)), ("waves-test.csv", slice(1000, 1200))):
        cols = [x[sl, j] for j in range(5)] + [y[sl]]
        write_csv(os.path.join(out, name), header, cols, ["%.6g"] * 6)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "examples", "data"))
    out = os.path.normpath(ap.parse_args().out)
    rng = np.random.default_rng(SEED)
    digits(out)
    claims(out, rng)
    claim_costs(out, rng)
    margin(out)
    clusters(out)
    sine(out)
    waves(out)


if __name__ == "__main__":
    main()
