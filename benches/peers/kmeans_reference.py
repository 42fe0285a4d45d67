#!/usr/bin/env python3
"""scikit-learn's k-means on kiln's seeded blobs, for the 100,000 x 10 size test.

    python3 benches/peers/kmeans_reference.py [OUT.csv]

Writes the CSV that `kiln_model_zoo::synthetic::write_blobs_csv(path, 100_000, 10, 8, 4.0, 3)`
writes, byte for byte (the same LCG, Box-Muller normals and `%.6f` printing; pass OUT.csv to
keep it and compare with the Rust file), then fits `KMeans(8, n_init=10)` for random states
0-4 and prints the inertia of each and the best: the test's reference.
"""

import math
import sys
import tempfile
from pathlib import Path

MASK = (1 << 64) - 1


class Rng:
    """kiln_model_zoo::rng::Rng: a 64-bit LCG (MMIX constants)."""

    def __init__(self, seed):
        self.state = (seed ^ 0x9E3779B97F4A7C15) & MASK

    def next_u64(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state

    def uniform(self):
        return ((self.next_u64() >> 11) + 0.5) / float(1 << 53)

    def normal(self):
        u, v = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


def write_blobs_csv(path, rows, features, k, spread, seed):
    rng = Rng(seed)
    centres = [rng.uniform() * 20.0 - 10.0 for _ in range(k * features)]
    with open(path, "w") as out:
        out.write(",".join([f"x{j}" for j in range(features)] + ["y"]) + "\n")
        for i in range(rows):
            blob = i % k
            cells = [f"{centres[blob * features + j] + spread * rng.normal():.6f}"
                     for j in range(features)]
            out.write(",".join(cells) + f",b{blob}\n")


def main():
    import numpy as np
    from sklearn.cluster import KMeans

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "blobs.csv"
    write_blobs_csv(path, 100_000, 10, 8, 4.0, 3)
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(10), dtype=np.float32)
    inertias = []
    for state in range(5):
        model = KMeans(8, n_init=10, random_state=state).fit(x)
        inertias.append(model.inertia_)
        print(f"random_state {state}: inertia {model.inertia_:.6f}")
    print(f"best: {min(inertias):.6f}")


if __name__ == "__main__":
    main()
