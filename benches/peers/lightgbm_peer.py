#!/usr/bin/env python3
"""Peer of the `ranking_gbdt` bench: LightGBM's own predict on the same model and rows.

Loads crates/nova-ranking/tests/data/{lgbm_model.txt,rows.csv}, repeats the rows to
1,500 (as the bench does), and times `Booster.predict` on one thread. Prints
`lightgbm_ns_per_row <value>`.
"""
import sys
import time

import lightgbm as lgb
import numpy as np

DATA = "crates/nova-ranking/tests/data"
ROWS = 1500

booster = lgb.Booster(model_file=f"{DATA}/lgbm_model.txt")
base = np.genfromtxt(f"{DATA}/rows.csv", delimiter=",")
x = np.ascontiguousarray(np.resize(base, (ROWS, base.shape[1])))
booster.predict(x, num_threads=1)  # warm-up
samples = []
deadline = time.perf_counter() + float(sys.argv[1] if len(sys.argv) > 1 else 5)
while time.perf_counter() < deadline:
    start = time.perf_counter_ns()
    booster.predict(x, num_threads=1)
    samples.append((time.perf_counter_ns() - start) / ROWS)
print(f"lightgbm_ns_per_row {np.median(samples):.1f}")
