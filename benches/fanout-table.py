"""The table of benches/fanout.sh: LINES PREFIX MACHINE -> PREFIX.json, PREFIX.md."""
import json
import sys

lines, prefix, machine = sys.argv[1:]
rows = [json.loads(l) for l in open(lines)]
cell = {(r["strategy"], r["derivation"]): r for r in rows}
strategies = [("crane-zstd", "crane use-zstd"), ("layered", "cargo-inherit layered"), ("symlink", "cargo-inherit symlink"),
              ("layered-unified", "layered, unifyFeatures"), ("symlink-unified", "symlink, unifyFeatures")]
services = [r["derivation"] for r in rows if r["strategy"] == "layered" and r["derivation"] != "deps"]


def seconds(r):
    rep = r["report"]
    return rep["inherit_seconds"] + rep["cargo_seconds"] + rep["install_seconds"]


def dep_units(r):
    rebuilt = r["report"].get("rebuilt") or {}
    return rebuilt.get("dependency_units", len(rebuilt.get("dependencies", [])))


def show(r):
    return f"{seconds(r):.2f} s / {dep_units(r)} / {r['nar_bytes'] / 1e6:.1f} MB"


out = [f"### Fan-out per service, workload `monorepo`, {machine}", "",
       "Each cell: seconds (inherit + cargo + install) / dependency units compiled / bytes the derivation adds to the store (its NARs).",
       "", "| derivation | " + " | ".join(n for _, n in strategies) + " |", "|---|" + "---|" * len(strategies)]
for d in ["deps"] + services:
    out.append(f"| {d} | " + " | ".join(show(cell[(s, d)]) for s, _ in strategies) + " |")
total = {s: sum(seconds(cell[(s, d)]) for d in services) for s, _ in strategies}
out.append("| **services together** | " + " | ".join(f"{total[s]:.2f} s" for s, _ in strategies) + " |")
union, deps = cell[("union", "deps")], cell[("layered", "deps")]
crane_deps = cell[("crane-zstd", "deps")]
goals = []
for s, _ in strategies[1:]:
    ratio = total[s] / total["crane-zstd"]
    goals.append((f"cargo-inherit {s}: the per-service derivations together take at most 0.25x crane use-zstd's wall time",
                  f"{total[s]:.1f} s against {total['crane-zstd']:.1f} s, {ratio:.2f}x", ratio <= 0.25))
    compiled = sum(dep_units(cell[(s, d)]) for d in services)
    goals.append((f"cargo-inherit {s}: every per-service derivation compiles 0 dependency units",
                  f"{compiled} in all", compiled == 0))
for s, what in (("layered", "fanned-out"), ("layered-unified", "unified (unifyFeatures)")):
    d = cell[(s, "deps")]
    bytes_ratio = d["stored_bytes"] / union["stored_bytes"]
    goals.append((f"the {what} deps layer stores at most 1.15x a union-only deps layer's bytes",
                  f"{d['stored_bytes'] / 1e6:.1f} MB against {union['stored_bytes'] / 1e6:.1f} MB, {bytes_ratio:.2f}x",
                  bytes_ratio <= 1.15))
    time_ratio = seconds(d) / seconds(union)
    goals.append((f"the {what} deps derivation takes at most 1.25x a union-only deps derivation's time",
                  f"{seconds(d):.1f} s against {seconds(union):.1f} s, {time_ratio:.2f}x", time_ratio <= 1.25))
out += ["", f"Deps for the workspace's union only (cargo-inherit layered, fanOut = false): {show(union)}, "
        f"layer {union['stored_bytes'] / 1e6:.1f} MB; fanned out: layer {deps['stored_bytes'] / 1e6:.1f} MB; "
        f"unified: layer {cell[('layered-unified', 'deps')]['stored_bytes'] / 1e6:.1f} MB; "
        f"crane's archive {crane_deps['stored_bytes'] / 1e6:.1f} MB.", "",
        "| goal | figures | verdict |", "|---|---|---|"]
out += [f"| {g} | {f} | {'met' if m else 'MISSED'} |" for g, f, m in goals]
json.dump(rows, open(prefix + ".json", "w"), indent=1)
open(prefix + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
