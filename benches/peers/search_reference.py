#!/usr/bin/env python3
"""`kiln search` against scikit-learn's GridSearchCV on the same split, grid and folds.

    python3 benches/peers/search_reference.py

breast-cancer.csv split 75/25 (numpy default_rng(0) permutation, both parts in file order);
logistic regression over C in [100, 10, 1, 0.1, 0.01] (kiln: l2 = 1/C), features
standardized, 5 stratified folds scoring each C by accuracy on the training part, the best
refitted on the whole training part and scored on the test part. Prints each tool's best C,
its cross-validated accuracy and the test accuracy. kiln's folds are its own (seeded), so the
cross-validated means differ by the folds; the issue's bar is the test accuracy within 1 point.
Uses the `kiln` of the test build (`scripts/test.sh` or `cargo build --release`).
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[2]
GRID_C = [100, 10, 1, 0.1, 0.01]


def main():
    data = pd.read_csv(REPO / "examples/data/breast-cancer.csv")
    order = np.random.default_rng(0).permutation(len(data))
    cut = int(0.75 * len(data))
    train, test = data.iloc[np.sort(order[:cut])], data.iloc[np.sort(order[cut:])]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train.to_csv(tmp / "train.csv", index=False)
        test.to_csv(tmp / "test.csv", index=False)
        grid = ", ".join(repr(1.0 / c) for c in GRID_C)
        (tmp / "search.toml").write_text(
            '[data]\ntrain = "train.csv"\nvalid = "test.csv"\ntarget = "diagnosis"\n'
            '[model]\nkind = "logistic_regression"\nsolver = "lbfgs"\n[train]\nepochs = 100\n'
            f'[search]\nfolds = 5\n"model.l2" = [{grid}]\n'
        )
        target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/kiln-target"))
        kiln = Path(target) / "release" / "kiln"
        subprocess.run([str(kiln), "search", str(tmp / "search.toml"), "--out", str(tmp / "s")],
                       check=True, capture_output=True)
        search = json.loads((tmp / "s/search.json").read_text())
        refit = json.loads((tmp / "s/best/summary.json").read_text())
        best = search["best"]
        print(f"kiln search:   best C {1.0 / best['values']['model.l2']:g}, "
              f"cv accuracy {best['mean']['accuracy']:.6f}, test accuracy "
              f"{refit['valid']['accuracy']:.6f}")
    y_train, y_test = train.pop("diagnosis"), test.pop("diagnosis")
    for seed in (0, 1, 2):
        search = GridSearchCV(
            make_pipeline(StandardScaler(), LogisticRegression()),
            {"logisticregression__C": GRID_C},
            cv=StratifiedKFold(5, shuffle=True, random_state=seed),
        ).fit(train, y_train)
        print(f"GridSearchCV (folds seed {seed}): best C {search.best_params_['logisticregression__C']:g}, "
              f"cv accuracy {search.best_score_:.6f}, test accuracy {search.score(test, y_test):.6f}")


if __name__ == "__main__":
    main()
