#!/usr/bin/env python3
"""Trains the GBDT that nova-ranking's parity test and bench use, with the real LightGBM.

Writes into crates/nova-ranking/tests/data/:
  lgbm_model.txt      LightGBM text model: binary objective, 100 trees, 15 leaves, 64 features
  rows.csv            100 test rows (64 features, some missing as empty fields)
  expected.csv        LightGBM's predictions for them: raw score, probability

Run from the repository root:  python3 benches/peers/make_gbdt.py
Needs: pip install lightgbm numpy
"""
import os

import lightgbm as lgb
import numpy as np

OUT = os.path.join("crates", "nova-ranking", "tests", "data")
FEATURES, TRAIN_ROWS, TEST_ROWS = 64, 5000, 100

rng = np.random.default_rng(7)
x = rng.normal(size=(TRAIN_ROWS + TEST_ROWS, FEATURES)).round(4)
# Missing values (NaN) in a few features, so default directions are exercised.
for f in (3, 17, 40):
    x[rng.random(len(x)) < 0.1, f] = np.nan
# Some exact zeros too.
x[rng.random(len(x)) < 0.05, 5] = 0.0
logit = 1.5 * x[:, 0] - 2.0 * x[:, 1] + x[:, 2] * x[:, 4] + np.nan_to_num(x[:, 3]) + 0.5 * np.sin(3 * x[:, 6])
y = (logit + rng.normal(scale=0.5, size=len(x)) > 0).astype(int)

train, test = x[:TRAIN_ROWS], x[TRAIN_ROWS:]
params = {
    "objective": "binary",
    "num_leaves": 15,
    "learning_rate": 0.1,
    "min_data_in_leaf": 20,
    "verbose": -1,
    "num_threads": 1,
    "seed": 7,
    "deterministic": True,
}
booster = lgb.train(params, lgb.Dataset(train, label=y[:TRAIN_ROWS]), num_boost_round=100)
os.makedirs(OUT, exist_ok=True)
booster.save_model(os.path.join(OUT, "lgbm_model.txt"))

raw = booster.predict(test, raw_score=True)
prob = booster.predict(test)
with open(os.path.join(OUT, "rows.csv"), "w") as f:
    for row in test:
        f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")
with open(os.path.join(OUT, "expected.csv"), "w") as f:
    for r, p in zip(raw, prob):
        f.write(f"{float(r)!r},{float(p)!r}\n")
print(f"wrote {OUT}: {booster.num_trees()} trees, {TEST_ROWS} rows")
