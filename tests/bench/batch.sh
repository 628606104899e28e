#!/usr/bin/env bash
# Whole-program batch benchmark (docs/performance.md): a generated study of
# 100 sessions (20 animals x 4 unit sessions of 30 min + 20 slice sessions),
# run with --jobs 1 and --jobs 2 into separate folders, then rerun with
# everything cached; peak memory of the batch process and of its workers.
#
#   tests/bench/batch.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p burstscope
BIN=target/release/burstscope
OUT=target/bench/batch
rm -rf "$OUT"
mkdir -p "$OUT"
/usr/bin/time -f "generate: %e s wall, %M KB peak" "$BIN" generate dataset --out "$OUT/study" \
  --animals 20 --sessions 4 --duration 1800 --slice-animals 20 --cells-per-region 1 2>&1 | tail -2
for j in 1 2; do
  /usr/bin/time -f "batch --jobs $j: %e s wall, %M KB peak (batch process)" \
    "$BIN" batch "$OUT/study/manifest.csv" --out "$OUT/jobs$j" --jobs "$j" 2>&1 | tail -2
done
/usr/bin/time -f "batch rerun, everything cached: %e s wall, %M KB peak" \
  "$BIN" batch "$OUT/study/manifest.csv" --out "$OUT/jobs2" --jobs 2 2>&1 | tail -2
# Peak memory of one worker: the largest stage, run alone under time.
first=$(sed -n 2p "$OUT/study/manifest.csv" | cut -d, -f2)
/usr/bin/time -f "one bursts worker: %e s wall, %M KB peak" \
  "$BIN" bursts "$OUT/study/$first" --out "$OUT/one-bursts" --config "$OUT/jobs1/sessions/rat01-s1/bursts.toml" 2>&1 | tail -1
for t in unit_metrics stats; do
  cmp "$OUT/jobs1/dataset/$t.parquet" "$OUT/jobs2/dataset/$t.parquet" && echo "dataset/$t.parquet: identical with --jobs 1 and 2"
done
# The dataset stage's own time (merge, statistics, figures and report), from its record.
grep -A4 '"seconds"' "$OUT/jobs2/dataset/dataset.json" | tr -d ' \n' && echo
grep '"wall_s"' "$OUT/jobs2/dataset/dataset.json" | sed 's/^ */dataset stage /'
