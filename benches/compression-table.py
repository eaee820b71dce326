"""The table of benches/compression.sh: one row per setting, crane first.

    compression-table.py LINES LOGICAL_BYTES CORES OUT_PREFIX
writes OUT_PREFIX.json (the rows) and OUT_PREFIX.md (the table).
"""
import datetime
import json
import sys

lines, logical, cores, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [json.loads(line) for line in open(lines)]
crane = rows[0]


def mb(n):
    return f"{n / 1e6:.1f} MB"


table = [
    f"### zstd settings, deps layer of `service`, {datetime.date.today()}, {cores} cores",
    "",
    f"The tree: {mb(logical)} of files. Pack and unpack: wall seconds / CPU seconds (user + system);"
    " unpack lays the layer out in memory (/dev/shm). Bytes: blobs.zst + manifest.json"
    " (crane: target.tar.zst).",
    "",
    "| setting | bytes | vs crane | pack | pack vs crane (wall) | unpack |",
    "|---|---|---|---|---|---|",
]
for r in rows:
    table.append(
        f"| {r['name']} | {mb(r['bytes'])} | {r['bytes'] / crane['bytes']:.2f}x"
        f" | {r['pack_wall']:.2f} / {r['pack_cpu']:.2f} s"
        f" | {r['pack_wall'] / crane['pack_wall']:.1f}x"
        f" | {r['unpack_wall']:.2f} / {r['unpack_cpu']:.2f} s |"
    )
json.dump({"date": str(datetime.date.today()), "cores": int(cores), "logical_bytes": logical, "rows": rows},
          open(prefix + ".json", "w"), indent=2)
open(prefix + ".md", "w").write("\n".join(table) + "\n")
