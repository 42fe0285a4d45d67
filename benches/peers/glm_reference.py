#!/usr/bin/env python3
"""Reference GLM fits (scikit-learn) for kiln's GLM tests.

    python3 benches/peers/glm_reference.py

Reads examples/data/claims.csv and claim-costs.csv as shipped (values as printed, %.6g),
standardizes the features of ALL rows with the population std (ddof=0, StandardScaler),
and fits, with alpha=1e-3 (L2 on the coefficients, intercept not penalised),
tol=1e-12, max_iter=100000:

  Poisson  PoissonRegressor                             on claims.csv       (target claims)
  Gamma    GammaRegressor                               on claim-costs.csv  (target cost)
  Tweedie  TweedieRegressor(power=1.5, link='log')      on claim-costs.csv
  Normal   TweedieRegressor(power=0,   link='identity') on claim-costs.csv

For each it prints intercept_ and coef_ (8 significant digits), the objective scikit-learn
minimises, 1/(2n) sum unit_deviance + alpha/2 ||coef||^2, at the solution, and the mean
unit deviance. The printed solution is solver='newton-cholesky' (same objective; it reaches
a gradient of ~1e-16, while the default lbfgs stops on its ftol with a gradient of ~1e-9,
which moves the 9th-10th significant digit). The fit is repeated with lbfgs and the largest
parameter difference between the two, and the max |gradient| of the objective at the
printed solution, are printed as a check.
"""
import os
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor
from sklearn.preprocessing import StandardScaler

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "data")
ALPHA = 1e-3


def load(name, target):
    path = os.path.normpath(os.path.join(DATA, name))
    with open(path) as f:
        header = f.readline().strip().split(",")
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    j = header.index(target)
    feats = [h for i, h in enumerate(header) if i != j]
    return feats, np.delete(a, j, axis=1), a[:, j]


def unit_deviance(family, y, mu, power=None):
    if family == "poisson":
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
        return 2.0 * (ylogy - y + mu)
    if family == "gamma":
        return 2.0 * (np.log(mu / y) + y / mu - 1.0)
    if family == "tweedie":
        p = power
        return 2.0 * (np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
                      - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
    if family == "normal":
        return (y - mu) ** 2
    raise ValueError(family)


def fit(label, make, family, file, target, power=None):
    feats, x, y = load(file, target)
    z = StandardScaler().fit_transform(x)  # all rows, ddof=0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning would be a failure here
        m = make(solver="newton-cholesky").fit(z, y)
        m2 = make(solver="lbfgs").fit(z, y)
    mu = m.predict(z)
    dev = unit_deviance(family, y, mu, power)
    obj = dev.sum() / (2 * len(y)) + ALPHA / 2 * np.dot(m.coef_, m.coef_)
    # gradient of the objective: d(half unit deviance)/d eta = (mu - y) V(mu)^-1 dmu/deta
    p = {"poisson": 1.0, "gamma": 2.0, "tweedie": power, "normal": 0.0}[family]
    r = (mu - y) * mu ** (1 - p) if family != "normal" else mu - y
    grad = np.r_[r.mean(), z.T @ r / len(y) + ALPHA * m.coef_]
    diff = max(abs(m.intercept_ - m2.intercept_), np.max(np.abs(m.coef_ - m2.coef_)))
    print(f"== {label}: {file}, target {target}, n={len(y)}, features {','.join(feats)}")
    print(f"   intercept_      {m.intercept_:.8g}")
    print(f"   coef_           [{', '.join(f'{c:.8g}' for c in m.coef_)}]")
    print(f"   objective       {obj:.10g}   (1/(2n) sum dev + alpha/2 |coef|^2)")
    print(f"   mean deviance   {dev.mean():.10g}")
    print(f"   check: max |grad| = {np.abs(grad).max():.1e}; newton-cholesky n_iter_={m.n_iter_}, "
          f"lbfgs n_iter_={m2.n_iter_}, max |lbfgs - newton| = {diff:.1e}")


def main():
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, alpha={ALPHA}")
    kw = dict(alpha=ALPHA, tol=1e-12, max_iter=100000)
    fit("Poisson (log link)", lambda **s: PoissonRegressor(**kw, **s),
        "poisson", "claims.csv", "claims")
    fit("Gamma (log link)", lambda **s: GammaRegressor(**kw, **s),
        "gamma", "claim-costs.csv", "cost")
    fit("Tweedie power=1.5 (log link)",
        lambda **s: TweedieRegressor(power=1.5, link="log", **kw, **s),
        "tweedie", "claim-costs.csv", "cost", power=1.5)
    fit("Normal power=0 (identity link)",
        lambda **s: TweedieRegressor(power=0, link="identity", **kw, **s),
        "normal", "claim-costs.csv", "cost")


if __name__ == "__main__":
    main()
