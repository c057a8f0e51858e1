#!/usr/bin/env python3
"""Trains the XGBoost model that nova-ranking's XGBoost parity test uses, with the real XGBoost.

Reads crates/nova-ranking/tests/data/rows.csv (the LightGBM parity rows: 64 features,
some missing as empty fields) and writes beside it:
  xgb_model.json      XGBoost JSON model (`Booster.save_model("model.json")`): binary:logistic,
                      100 trees of depth <= 5, base_score estimated from the data
  xgb_expected.csv    XGBoost's predictions for rows.csv: raw margin, probability

Run from the repository root:  python3 benches/peers/make_xgb.py
Needs: pip install xgboost-cpu numpy   (tested with xgboost 3.2.0)
"""
import os

import numpy as np
import xgboost as xgb

OUT = os.path.join("crates", "nova-ranking", "tests", "data")
FEATURES, TRAIN_ROWS = 64, 5000

rng = np.random.default_rng(11)
x = rng.normal(size=(TRAIN_ROWS, FEATURES)).round(4)
for f in (3, 17, 40):
    x[rng.random(len(x)) < 0.1, f] = np.nan
x[rng.random(len(x)) < 0.05, 5] = 0.0
logit = 1.5 * x[:, 0] - 2.0 * x[:, 1] + x[:, 2] * x[:, 4] + np.nan_to_num(x[:, 3]) + 0.5 * np.sin(3 * x[:, 6])
y = (logit + rng.normal(scale=0.5, size=len(x)) > 0.3).astype(int)

params = {
    "objective": "binary:logistic",
    "max_depth": 5,
    "eta": 0.1,
    "tree_method": "hist",
    "nthread": 1,
    "seed": 11,
}
booster = xgb.train(params, xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=100)
booster.save_model(os.path.join(OUT, "xgb_model.json"))

with open(os.path.join(OUT, "rows.csv")) as f:
    rows = np.array(
        [[float(v) if v else np.nan for v in line.rstrip("\n").split(",")] for line in f],
        dtype=np.float64,
    )
test = xgb.DMatrix(rows, missing=np.nan)
margin = booster.predict(test, output_margin=True)
prob = booster.predict(test)
with open(os.path.join(OUT, "xgb_expected.csv"), "w") as f:
    for m, p in zip(margin, prob):
        f.write(f"{float(m)!r},{float(p)!r}\n")
print(f"wrote {OUT}: {booster.num_boosted_rounds()} trees, {len(rows)} rows")
