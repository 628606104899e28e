"""Compares two demo output folders table by table, column by column.

Used to check that moving the analysis into burstscope-pipeline changed no
result: run `burstscope demo --out A` with the previous build and with this
one, then `python compare_demo_tables.py A B`. Every Parquet table under
detect/, bursts/ and epsc/ must have the same columns, row count and values
(floats equal, NaN equal to NaN; the `file` column of epsc/cells may differ
only in the output folder's path). Needs pyarrow.
"""
import math
import pathlib
import sys

import pyarrow.parquet as pq


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def main(a_dir, b_dir):
    a_dir, b_dir = pathlib.Path(a_dir), pathlib.Path(b_dir)
    tables = sorted(p.relative_to(a_dir) for p in a_dir.glob("*/*.parquet"))
    bad = 0
    for rel in tables:
        ta, tb = pq.read_table(a_dir / rel), pq.read_table(b_dir / rel)
        if ta.column_names != tb.column_names or ta.num_rows != tb.num_rows:
            print(f"{rel}: columns or rows differ: {ta.column_names} {ta.num_rows} vs {tb.column_names} {tb.num_rows}")
            bad += 1
            continue
        for name in ta.column_names:
            va, vb = ta.column(name).to_pylist(), tb.column(name).to_pylist()
            if name == "file":
                va = [pathlib.Path(v).name for v in va]
                vb = [pathlib.Path(v).name for v in vb]
            diff = sum(not same(x, y) for x, y in zip(va, vb))
            if diff:
                print(f"{rel}: column {name}: {diff} of {len(va)} values differ")
                bad += 1
        print(f"{rel}: {ta.num_rows} rows x {ta.num_columns} columns compared")
    missing = sorted(p.relative_to(b_dir) for p in b_dir.glob("*/*.parquet"))
    if missing != tables:
        print(f"table sets differ: {tables} vs {missing}")
        bad += 1
    print(f"{len(tables)} tables, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
