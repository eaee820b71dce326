#!/usr/bin/env python3
"""The table of benches/ci-cache.sh: LINES (one JSON object per run) into
OUT.json and OUT.md, with the goals of issue 27 checked.

    ci-cache-table.py LINES OUT
"""
import json
import sys

lines, out = sys.argv[1], sys.argv[2]
runs = [json.loads(line) for line in open(lines)]


def mb(n):
    return f"{n / 1e6:.1f} MB"


def total(way, field, skip_first=False):
    return sum(r[way][field] for r in runs[1 if skip_first else 0:])


uploaded = (total("tarball", "uploaded"), total("layered", "uploaded"))
store = (runs[-1]["tarball"]["store"], runs[-1]["layered"]["store"])
# Run 1 restores nothing either way.
restore = (total("tarball", "restore_s", True), total("layered", "restore_s", True))
goals = [
    ("uploaded bytes over the sequence", uploaded[1] / uploaded[0], 0.2),
    ("store bytes after it", store[1] / store[0], 0.35),
    ("restore seconds (runs 2-8)", restore[1] / restore[0], 0.7),
]

md = ["| run | event | units compiled | tarball restore / save | tarball uploaded | "
      "layered restore / save | layered uploaded |",
      "|---|---|---|---|---|---|---|"]
for r in runs:
    t, l = r["tarball"], r["layered"]
    md.append(f"| {r['run']} | {r['event']} | {r['units']} | {t['restore_s']:.2f} / {t['save_s']:.2f} s | "
              f"{mb(t['uploaded'])} | {l['restore_s']:.2f} / {l['save_s']:.2f} s | {mb(l['uploaded'])} |")
md.append(f"| all | | {sum(r['units'] for r in runs)} | {restore[0]:.2f} s restore (2-8) | {mb(uploaded[0])} | "
          f"{restore[1]:.2f} s restore (2-8) | {mb(uploaded[1])} |")
md.append("")
md.append(f"Store after the sequence: tarball {mb(store[0])}, layered {mb(store[1])}.")
md.append("")
md.append("| goal | layered / tarball | at most | met |")
md.append("|---|---|---|---|")
for name, ratio, bound in goals:
    md.append(f"| {name} | {ratio:.2f}x | {bound}x | {'yes' if ratio <= bound else 'no'} |")

with open(out + ".md", "w") as f:
    f.write("\n".join(md) + "\n")
with open(out + ".json", "w") as f:
    json.dump({"runs": runs, "goals": [{"goal": n, "ratio": r, "bound": b} for n, r, b in goals]}, f, indent=1)
