#!/usr/bin/env python3
"""scikit-learn's GaussianMixture on kiln's seeded blobs, for the 100,000 x 10 GMM test.

    python3 benches/peers/gmm_reference.py

First the unit test's reference: three correlated 2-D blobs of 300 rows, built by the same
recipe and RNG as `data()` in model-zoo/src/gmm.rs, fitted with n_init=5, tol=1e-6 (score, BIC,
AIC per covariance type). Then the size test's:
Writes the CSVs that `kiln_model_zoo::synthetic::write_blobs_csv(path, 100_000, 10, 8,
spread, 3)` writes (spread 1.0 and 4.0, byte for byte: see kmeans_reference.py), fits
`GaussianMixture(8, covariance_type=..., n_init=...)` for random states 0-2 and prints the mean
log-likelihood (`score`) of each fit and the best: the test's reference.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from kmeans_reference import write_blobs_csv  # noqa: E402


def small_data():
    """model-zoo/src/gmm.rs `data()`: rows centre + A·z, cast to f32 as the Rust test does."""
    import numpy as np
    from kmeans_reference import Rng

    rng = Rng(7)
    blobs = [((0.0, 0.0), [1.0, 0.0, 0.6, 0.4]), ((6.0, 2.0), [0.5, 0.3, 0.0, 1.5]),
             ((-4.0, 5.0), [2.0, -1.0, 0.0, 0.7])]
    rows = []
    for i in range(300):
        (cx, cy), a = blobs[i % 3]
        z0, z1 = rng.normal(), rng.normal()
        rows.append([np.float32(cx + a[0] * z0 + a[1] * z1), np.float32(cy + a[2] * z0 + a[3] * z1)])
    return np.array(rows, dtype=np.float64)


def main():
    import numpy as np
    from sklearn.mixture import GaussianMixture

    x = small_data()
    for covariance in ["full", "diag"]:
        model = GaussianMixture(3, covariance_type=covariance, n_init=5, tol=1e-6,
                                random_state=0).fit(x)
        print(f"small {covariance}: score {model.score(x)!r} bic {model.bic(x)!r} "
              f"aic {model.aic(x)!r}")

    folder = Path(tempfile.mkdtemp())
    for spread, n_init in [(1.0, 1), (4.0, 5)]:
        path = folder / f"blobs-{spread}.csv"
        write_blobs_csv(path, 100_000, 10, 8, spread, 3)
        x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(10), dtype=np.float32)
        for covariance in ["full", "diag"]:
            scores = []
            for state in range(3):
                model = GaussianMixture(8, covariance_type=covariance, n_init=n_init,
                                        random_state=state).fit(x)
                scores.append(model.score(x))
                print(f"spread {spread} {covariance} n_init {n_init} random_state {state}: "
                      f"mean log-likelihood {scores[-1]:.6f} bic {model.bic(x):.1f} "
                      f"iterations {model.n_iter_}")
            print(f"spread {spread} {covariance}: best {max(scores):.6f}")


if __name__ == "__main__":
    main()
