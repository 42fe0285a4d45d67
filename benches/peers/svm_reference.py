#!/usr/bin/env python3
"""Reference linear-SVM fits (scikit-learn LinearSVC / liblinear) for kiln's SVM tests.

    python3 benches/peers/svm_reference.py

margin-train.csv / margin-test.csv (binary, 10 features, labels 0/1): StandardScaler
fitted on the training rows (ddof=0) and applied to both; LinearSVC(C=1.0,
max_iter=100000, tol=1e-8) with loss='squared_hinge' (dual='auto', which liblinear
resolves to the primal solver here, n_samples > n_features) and loss='hinge' (dual=True,
the only solver liblinear has for it). Prints test accuracy (4 decimals), coef_,
intercept_ (8 significant digits) and the primal objective at the solution.

Note for comparisons: liblinear treats the intercept as one more feature of constant value
intercept_scaling=1 and PENALISES it like the other weights. The primal objective it
minimises, with labels s = +-1 and w~ = (coef, intercept), is
    1/2 |w~|^2 + C sum_i loss(s_i (coef.x_i + intercept)),
loss = max(0, 1 - m) (hinge) or max(0, 1 - m)^2 (squared_hinge).

The dual coordinate descent visits rows in random order (random_state=0 here): with
loss='hinge' the solution is reached to about 1e-8 absolute (other seeds move coef_ by up
to 1.3e-8, the objective in the 12th digit); squared_hinge's primal solver and its dual
agree to ~1e-11 (printed as a check).

Then iris (examples/data/iris.csv, 150 rows, 3 classes): StandardScaler on all rows,
one-vs-rest LinearSVC with each loss, train accuracy, coef_ and intercept_ (information).
"""
import os
import warnings

import numpy as np
import sklearn
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "data")


def read(name):
    path = os.path.normpath(os.path.join(DATA, name))
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([r[-1] for r in rows])
    return header, x, y


def resolved_dual(m, x):
    if m.dual != "auto":
        return m.dual
    return x.shape[0] < x.shape[1]  # sklearn's rule for 'auto' (l2 penalty, either loss)


def fmt(v):
    return "[" + ", ".join(f"{c:.8g}" for c in v) + "]"


def models():
    kw = dict(C=1.0, max_iter=100000, tol=1e-8, random_state=0)
    return [("squared_hinge", LinearSVC(loss="squared_hinge", **kw)),
            ("hinge", LinearSVC(loss="hinge", dual=True, **{**kw, "max_iter": 1000000, "tol": 1e-6}))]


def primal_objective(m, x, y01, loss):
    s = np.where(y01 == 1, 1.0, -1.0)
    margin = s * (x @ m.coef_[0] + m.intercept_[0])
    h = np.maximum(0.0, 1.0 - margin)
    if loss == "squared_hinge":
        h = h * h
    w2 = np.dot(m.coef_[0], m.coef_[0]) + m.intercept_[0] ** 2
    return 0.5 * w2 + m.C * h.sum()


def margin_set():
    _, xtr, ytr = read("margin-train.csv")
    _, xte, yte = read("margin-test.csv")
    ytr, yte = ytr.astype(float).astype(int), yte.astype(float).astype(int)
    sc = StandardScaler().fit(xtr)
    ztr, zte = sc.transform(xtr), sc.transform(xte)
    print(f"== margin: train {len(ytr)} rows (label 1: {ytr.mean():.4f}), "
          f"test {len(yte)} rows, scaler fitted on train")
    for loss, m in models():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ConvergenceWarning would be a failure here
            m.fit(ztr, ytr)
        print(f"-- LinearSVC(C=1.0, loss='{loss}', dual={resolved_dual(m, ztr)}, tol={m.tol})")
        print(f"   test accuracy   {m.score(zte, yte):.4f}")
        print(f"   train accuracy  {m.score(ztr, ytr):.4f}")
        print(f"   coef_           {fmt(m.coef_[0])}")
        print(f"   intercept_      {m.intercept_[0]:.8g}")
        print(f"   primal objective {primal_objective(m, ztr, ytr, loss):.10g} "
              f"(intercept penalised), n_iter_={m.n_iter_}")
        if loss == "squared_hinge":  # same problem by the dual solver, as a check
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                m2 = LinearSVC(loss=loss, dual=True, C=1.0, max_iter=100000, tol=1e-8,
                               random_state=0).fit(ztr, ytr)
            d = max(np.abs(m.coef_ - m2.coef_).max(), np.abs(m.intercept_ - m2.intercept_).max())
            print(f"   check: dual=True solution differs by max {d:.1e}")


def iris():
    header, x, y = read("iris.csv")
    z = StandardScaler().fit_transform(x)
    print(f"== iris: {len(y)} rows, one-vs-rest, scaler fitted on all rows (information)")
    for loss, m in models():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m.fit(z, y)
        print(f"-- LinearSVC(C=1.0, loss='{loss}', dual={resolved_dual(m, z)}, tol=1e-8)")
        print(f"   train accuracy  {m.score(z, y):.4f}")
        for k, c in enumerate(m.classes_):
            print(f"   {c:<11} coef_ {fmt(m.coef_[k])}  intercept_ {m.intercept_[k]:.8g}")


def main():
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    margin_set()
    iris()


if __name__ == "__main__":
    main()
