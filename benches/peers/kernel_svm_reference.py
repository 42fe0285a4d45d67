#!/usr/bin/env python3
"""scikit-learn's SVC on the kernel SVM's data, for the test and the speed comparison.

    python3 benches/peers/kernel_svm_reference.py [--write-predictions]

Fits `SVC(C=1, kernel="rbf", gamma="scale")` (scikit-learn's defaults) on
examples/data/clusters-train.csv (5,000 x 20, written by make_reference_data.py) and prints the
test accuracy on clusters-test.csv, the number of support vectors, the resolved gamma and the
fit time (best of 3, single-threaded: libsvm uses one core). With --write-predictions, writes
the test predictions, one digit per row, to trainer/tests/data/svc-clusters-test.txt: the
test's reference for row-by-row agreement.
"""
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.svm import SVC

ROOT = Path(__file__).resolve().parents[2]


def read(name):
    data = np.loadtxt(ROOT / "examples/data" / name, delimiter=",", skiprows=1)
    return data[:, :-1].astype(np.float32), data[:, -1].astype(int)


def main():
    x, y = read("clusters-train.csv")
    xt, yt = read("clusters-test.csv")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model = SVC(C=1.0, kernel="rbf", gamma="scale").fit(x, y)
        times.append(time.perf_counter() - start)
    predictions = model.predict(xt)
    gamma = 1.0 / (x.shape[1] * x.astype(np.float64).var())
    print(f"test accuracy {np.mean(predictions == yt):.4f}, support vectors "
          f"{model.n_support_.sum()}, gamma {gamma:.6f}, dual objective terms "
          f"intercept {model.intercept_[0]:.6f}, fit {min(times):.3f} s (best of 3)")
    if "--write-predictions" in sys.argv:
        out = ROOT / "trainer/tests/data/svc-clusters-test.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(str(p) for p in predictions) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
