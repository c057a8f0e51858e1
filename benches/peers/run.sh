#!/bin/sh
# Runs Nova's ranking/trending benches and their peers in the same run, and prints the
# ratios (README "Ranking and trending"). From the repository root:
#
#   benches/peers/run.sh
#
# Needs: a python3 with `pip install lightgbm numpy` (PYTHON=/path/to/venv/bin/python
# to pick one), redis-cli and a Redis on 127.0.0.1:6379 (`cargo xtask services up`).
set -eu
PYTHON="${PYTHON:-python3}"
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/nova/target}"
export CARGO_TARGET_DIR="$TARGET"

cargo bench -q -p nova-benches --bench ranking -- 'ranking_gbdt|ranking_linear' >/dev/null
cargo bench -q -p nova-benches --bench trending -- 'trending_ingest/global$|trending_read/top10' >/dev/null

# criterion's mean time per iteration, in ns.
mean() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['mean']['point_estimate'])" "$TARGET/criterion/$1/new/estimates.json"; }

gbdt_ns=$(mean ranking_gbdt/100trees_1500rows)
linear_ns=$(mean ranking_linear/1500x64)
ingest_ns=$(mean trending_ingest/global)
top_ns=$(mean trending_read/top10_24h)
lgbm=$("$PYTHON" benches/peers/lightgbm_peer.py 5 | awk '{print $2}')
redis=$(python3 benches/peers/redis_peer.py 1000000 | awk '{print $2}')

python3 - "$gbdt_ns" "$linear_ns" "$ingest_ns" "$top_ns" "$lgbm" "$redis" <<'PY'
import sys
gbdt, linear, ingest, top, lgbm, redis = map(float, sys.argv[1:])
gbdt_row = gbdt / 1500
nova_eps = 1_000_000 / (ingest / 1e9)
print(f"linear 1500x64       {linear/1000:8.1f} us  ({1500/(linear/1e9)/1e6:.1f} M scores/s)   target <= 100 us")
print(f"GBDT 100 trees       {gbdt_row:8.0f} ns/row                             target <= 1000 ns/row")
print(f"  LightGBM predict   {lgbm:8.0f} ns/row (1 thread)                  ratio {lgbm/gbdt_row:.2f}x (target >= 3x)")
print(f"trending ingest      {nova_eps/1e6:8.2f} M events/s                      target >= 20 M/s")
print(f"  Redis ZINCRBY pipe {redis/1e6:8.2f} M events/s                      ratio {nova_eps/redis:.1f}x (target >= 20x)")
print(f"trending top-10 read {top/1000:8.2f} us                                target <= 50 us")
PY
