#!/usr/bin/env bash
# Whole-program sorting benchmark, side by side with MountainSort 5, and the
# accuracy table of docs/performance.md / docs/sorting.md.
#
#   tests/bench/sort.sh [--long]
#
# Builds release; for each fixture in ../shared/fixtures/sorting runs
# `burstscope sort` (figures off: the timed work is raw -> sorted units with
# metrics) and ../shared/tools/mountainsort5_sort.py --jobs 2 under
# /usr/bin/time, then scores both with ../shared/tools/score_sorting.py.
# --long also generates a 1 h, 32-channel, 30 kHz session (6.9 GB in
# target/bench/) and sorts it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=../shared
PY="$("$SHARED/tools/sort-peer-env")/bin/python"
cargo build --release -q -p burstscope
BIN=target/release/burstscope
OUT=target/bench/sort
mkdir -p "$OUT"
printf 'figures = false\n' > "$OUT/nofig.toml"
for f in lhb si; do
  RAW="$SHARED/fixtures/sorting/tetrode_sorting_$f.nwb"
  /usr/bin/time -o "$OUT/bs_$f.time" -f "%e %M" "$BIN" sort "$RAW" --out "$OUT/bs_$f" --config "$OUT/nofig.toml" > /dev/null 2>&1
  /usr/bin/time -o "$OUT/ms5_$f.time" -f "%e %M" "$PY" "$SHARED/tools/mountainsort5_sort.py" "$RAW" "$OUT/ms5_$f.csv" --jobs 2 > /dev/null 2>&1
  read -r bs_s bs_kb < "$OUT/bs_$f.time"
  read -r ms_s ms_kb < "$OUT/ms5_$f.time"
  echo "$f: burstscope $bs_s s, $((bs_kb / 1024)) MB peak; mountainsort5 $ms_s s, $((ms_kb / 1024)) MB peak; speed-up $(awk -v a="$ms_s" -v b="$bs_s" 'BEGIN { printf "%.1f", a / b }')x"
  "$PY" "$SHARED/tools/score_sorting.py" "$RAW" "$OUT/bs_$f" --label burstscope | tail -1
  "$PY" "$SHARED/tools/score_sorting.py" "$RAW" "$OUT/ms5_$f.csv" --label mountainsort5 | tail -1
done
if [[ "${1:-}" == "--long" ]]; then
  [[ -f target/bench/hour.nwb ]] || "$BIN" generate tetrode --out target/bench/hour.nwb --tetrodes 8 --duration 3600 --injection 1800
  /usr/bin/time -f "burstscope 1 h x 32 ch: %e s wall, %M KB peak" "$BIN" sort target/bench/hour.nwb --out "$OUT/hour" --config "$OUT/nofig.toml" 2>&1 | tail -1
fi
