#!/bin/sh
# Golden spikes tables of `burstscope detect`, written by the detection of
# commit 1100920 (before the issue-14 speed-ups), which must leave them
# byte-identical (tests/integration/detect.rs,
# `detection_tables_are_unchanged_by_the_speed_ups`):
# - tests/fixtures/tetrode_raw.nwb (8 channels: two 8-lane stripes' kernels);
# - a generated 10 s, 32-channel session, seed 7 (the 16-lane AVX-512 kernels).
# The values are those of the fused multiply-add kernels (x86-64 with FMA).
# Rerun only when detection's results are meant to change, and say why.
set -eu
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
bs="cargo run --quiet --bin burstscope --"
$bs detect tests/fixtures/tetrode_raw.nwb --out "$out/a" --format csv
cp "$out/a/spikes.csv" tests/golden/detect_tetrode_raw_spikes.csv
$bs generate tetrode --tetrodes 8 --duration 10 --seed 7 --out "$out/s.nwb"
$bs detect "$out/s.nwb" --out "$out/b" --format csv
cp "$out/b/spikes.csv" tests/golden/detect_generated32_spikes.csv
rm -rf "$out"
