#!/usr/bin/env bash
# Where `burstscope detect` spends its CPU time, stage by stage, and each
# stage's rate in samples per second per core (docs/performance.md).
#
#   tests/bench/detect_profile.sh [FILE.nwb]     (default: the 300 s session
#                                                 of `cargo xtask bench-detect`)
#
# Builds `--profile profiling` (release code with symbols), runs detect once
# under `perf record` (sampling at 4 kHz on every thread) and sums the samples
# by stage. CPU seconds from the cpu-clock event count; rate = the recording's samples
# (all channels) / the stage's CPU seconds. Needs perf (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "$0")/../.."
FILE=${1:-target/bench/session300.nwb}
[ -e "$FILE" ] || { echo "no $FILE: run 'cargo xtask bench-detect' first, or name a file" >&2; exit 2; }
command -v perf > /dev/null || { echo "perf not found (Debian: apt-get install linux-perf)" >&2; exit 2; }
cargo build -q --profile profiling -p burstscope --bin burstscope
BIN=target/profiling/burstscope
OUT=target/bench/profile
mkdir -p "$OUT"
cat "$FILE" > /dev/null
SAMPLES=$("$BIN" inspect "$FILE" --json 2> /dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
s = [x for x in d.get("series", []) if x.get("n_channels", 0) > 1] or d.get("series", [])
x = max(s, key=lambda x: x["n_samples"] * x["n_channels"])
size = {"int16": 2, "uint16": 2, "int32": 4, "float32": 4, "float64": 8}.get(x["dtype"], 2)
print(x["n_samples"] * x["n_channels"], size)' 2> /dev/null || echo 0 2)
read -r SAMPLES BYTES_PER_SAMPLE <<< "$SAMPLES"
perf record -q -e cpu-clock -F 4000 -o "$OUT/perf.data" "$BIN" detect "$FILE" --out "$OUT/detect" > /dev/null 2>&1
rm -f "$OUT/gzip.txt"
perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2> /dev/null |
  awk -v total_samples="$SAMPLES" -v bps="$BYTES_PER_SAMPLE" -v gzip="$OUT/gzip.txt" '
  /^ +[0-9.]+%/ {
    pct = $1; sub(/%/, "", pct); sym = $0
    if (sym ~ /sections16|filt::sections|ZeroPhase|filt::shape|Plan::filtered/) st = "band-pass filter (forward + backward, edges)"
    else if (sym ~ /_copy_to_iter|filemap_|pread|copy_page_to_iter|vfs_read/) st = "reading the file (kernel copy; the content hash is taken from the same reads)"
    else if (sym ~ /scale_rows|read_into_typed|Convert|LocalKey/) st = "int16 -> f32 scaling"
    else if (sym ~ /inflate|adler32|inftrees/) st = "gzip: inflate (zlib-rs)"
    else if (sym ~ /unshuffle/) st = "gzip: unshuffle"
    else if (sym ~ /hit_chunks|reduce_with/) st = "threshold reduction"
    else if (sym ~ /scan_peaks|kernel::select|detect_stripe_in|detect_block/) st = "peaks, selection, snippets"
    else if (sym ~ /partition_at_index|mad_sigma|median|noise/) st = "noise (MAD) estimate"
    else if (sym ~ /xxh3|xxhash/) st = "content hash (xxh3)"
    else if (sym ~ /malloc|_int_free|unlink_chunk|cfree|realloc|clear_page|do_anonymous_page|exc_page_fault|memset/) st = "memory: allocation, zeroing, page faults"
    else if (sym ~ /ZSTD|zstd|parquet|polars|H5|hdf5|Waveform|copy_folio_from_iter|ext4|pwrite|write_table/) st = "writing outputs"
    else st = "other (copies, scheduling, start-up, ...)"
    share[st] += pct
  }
  /Event count/ { ns = $NF }
  END {
    cpu = ns / 1e9
    for (st in share) {
      s = share[st] / 100 * cpu
      rate = (s > 0 && total_samples > 0) ? sprintf("%.0f M", total_samples / s / 1e6) : "-"
      printf "%09.3f| %s | %.1f %% | %.3f | %s |\n", share[st], st, share[st], s, rate
    }
    printf "!| **total** | 100 %% | %.3f | %.0f M |\n", cpu, total_samples / cpu / 1e6
    g = share["gzip: inflate (zlib-rs)"] / 100 * cpu
    u = share["gzip: unshuffle"] / 100 * cpu
    if (g > 0) printf "gzip, MB/s of decoded data per CPU second: zlib-rs inflate alone %.0f; inflate + unshuffle %.0f; detection end to end %.0f\n", total_samples * bps / g / 1e6, total_samples * bps / (g + u) / 1e6, total_samples * bps / cpu / 1e6 > gzip
  }' | LC_ALL=C sort -r | sed 's/^[^|]*|/|/' | { printf '| stage | CPU share | CPU s | samples/s/core |\n|---|---|---|---|\n'; cat; } | tee "$OUT/stages.md"
[ -e "$OUT/gzip.txt" ] && { echo; cat "$OUT/gzip.txt"; } | tee -a "$OUT/stages.md"
true
