#!/usr/bin/env python3
"""scikit-learn pipelines on the raw tables kiln trains on as they are (text categories,
missing cells), for the tests of `trainer/src/table.rs` and the raw-table configs.

    python3 benches/peers/tables_reference.py

Writes the train/test splits of the two raw tables (`examples/data/penguins.csv`,
`examples/data/cars.csv`): a seeded permutation (numpy `default_rng(0)`), the first 75% of
rows to `*-train.csv`, the rest to `*-test.csv`, each line copied as it is (byte for byte, so
`NA` and empty cells stay). Then fits, on each train file, the pipeline kiln's defaults
amount to, and prints its numbers on the test file:

    ColumnTransformer(
        numeric:      SimpleImputer(strategy="mean"),
        categorical:  SimpleImputer(strategy="constant", fill_value="(missing)")
                      -> OneHotEncoder(handle_unknown="ignore"),
    ) -> StandardScaler() -> model

- penguins, `species` from every column but `year`: LogisticRegression(C=1) (L-BFGS);
  test accuracy and log-loss (configs/penguins-logistic.toml).
- cars, `mpg` from every column but `name` (rows without `mpg` dropped): Ridge(alpha=1);
  test R^2 (configs/cars-ridge.toml).
- penguins clustered: KMeans(3, n_init=10) over random states 0-4 on all rows' features;
  inertia and adjusted Rand index against `species` (configs/penguins-kmeans.toml).

Missing cells are the texts kiln reads as missing by default: empty, NA, N/A, NaN, null, ?.

It also writes the penguins splits as Parquet (`penguins-train.parquet`,
`penguins-test.parquet`, pyarrow's default Snappy) and the training split as an Arrow IPC
file (`penguins-train.arrow`), as pandas reads the CSV (missing cells null, numbers float64,
text columns strings): kiln must fit the same model from them, byte for byte, as from the CSV.
Needs pyarrow besides pandas and scikit-learn.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import adjusted_rand_score, log_loss, r2_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
MISSING = ["", "NA", "N/A", "NaN", "null", "?"]


def split(name):
    """Writes NAME-train.csv and NAME-test.csv from NAME.csv, lines copied unchanged."""
    lines = (DATA / f"{name}.csv").read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    order = np.random.default_rng(0).permutation(len(rows))
    cut = int(round(0.75 * len(rows)))
    for part, indices in (("train", order[:cut]), ("test", order[cut:])):
        (DATA / f"{name}-{part}.csv").write_bytes(header + b"".join(rows[i] for i in indices))
    print(f"{name}: {cut} train rows, {len(rows) - cut} test rows")


def write_columnar():
    for part in ("train", "test"):
        frame = pd.read_csv(DATA / f"penguins-{part}.csv", na_values=MISSING,
                            keep_default_na=False)
        frame.to_parquet(DATA / f"penguins-{part}.parquet", index=False)
        if part == "train":
            frame.to_feather(DATA / f"penguins-{part}.arrow")
    print("penguins: wrote the splits as Parquet and the training split as Arrow IPC")


def read(name, target):
    frame = pd.read_csv(DATA / name, na_values=MISSING, keep_default_na=False)
    frame = frame[frame[target].notna()]
    return frame.drop(columns=[target]), frame[target]


def encoder(numeric, categorical):
    return ColumnTransformer([
        ("numeric", SimpleImputer(strategy="mean"), numeric),
        ("categorical", Pipeline([
            ("fill", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("one_hot", OneHotEncoder(handle_unknown="ignore")),
        ]), categorical),
    ])


PENGUIN_NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUIN_CATEGORIES = ["island", "sex"]


def penguins():
    x, y = read("penguins-train.csv", "species")
    x_test, y_test = read("penguins-test.csv", "species")
    model = make_pipeline(encoder(PENGUIN_NUMBERS, PENGUIN_CATEGORIES), StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=10_000, tol=1e-10))
    model.fit(x, y)
    print(f"penguins logistic: test accuracy {model.score(x_test, y_test):.6f}, "
          f"test log_loss {log_loss(y_test, model.predict_proba(x_test)):.6f}, "
          f"train accuracy {model.score(x, y):.6f}")


def cars():
    numbers = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year"]
    x, y = read("cars-train.csv", "mpg")
    x_test, y_test = read("cars-test.csv", "mpg")
    model = make_pipeline(encoder(numbers, ["origin"]), StandardScaler(), Ridge(alpha=1.0))
    model.fit(x, y)
    print(f"cars ridge: test r2 {r2_score(y_test, model.predict(x_test)):.6f} "
          f"({len(y_test)} test rows with an mpg), train r2 {model.score(x, y):.6f}, "
          f"intercept {model[-1].intercept_:.6f}")


def penguin_clusters():
    x, species = read("penguins.csv", "species")
    features = make_pipeline(encoder(PENGUIN_NUMBERS, PENGUIN_CATEGORIES), StandardScaler())
    z = features.fit_transform(x)
    for state in range(5):
        fitted = KMeans(3, n_init=10, random_state=state).fit(z)
        print(f"penguins k-means (random_state {state}): inertia {fitted.inertia_:.4f}, "
              f"adjusted Rand index {adjusted_rand_score(species, fitted.labels_):.6f}")


if __name__ == "__main__":
    split("penguins")
    split("cars")
    write_columnar()
    penguins()
    cars()
    penguin_clusters()
