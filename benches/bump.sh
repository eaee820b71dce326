#!/usr/bin/env bash
# Benchmark for issue 12: what a dependency bump costs. Three events on
# benches/workloads/service (release deps, as the chain bench builds them):
#   (a) uuid 1.29.3 -> 1.29.2, a crate with few dependents
#   (b) tokio 1.54.1 -> 1.54.0
#   (c) a new dependency, toml 0.8, which brings 6 crates
# For each, the new deps derivation from nothing (what crane does) beside
# cargo-inherit's on the deps before the bump, in one run: crates compiled
# (against the changed crates and their dependents, from cargo tree), wall
# seconds and the new layer's stored bytes.
#
#   benches/bump.sh        writes benches/results/bump-service.{json,md}
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="$root/benches/workloads/service"
results="$root/benches/results"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=../nix/sandbox.sh
source "$root/nix/sandbox.sh"
# shellcheck source=../nix/json.sh
source "$root/nix/json.sh"
cargo build -q --release --locked --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/release/cargo-inherit"
vendor_of() { "$root/nix/run.sh" --print-vendor "$1"; }

# EVENT CHANGED COMMAND...: a copy of the workload with COMMAND run in it.
prepare() {
  local dir="$work/$1"
  cp -r "$base" "$dir"
  (cd "$dir" && "${@:3}" > /dev/null 2>&1)
}
prepare a uuid cargo update -q -p uuid --precise 1.29.2
prepare b tokio cargo update -q -p tokio --precise 1.54.0
prepare c toml cargo add -q toml@0.8

# The crates a change should compile: the changed ones and their dependents.
expected() { # DIR CRATE...
  local dir="$1" crate; shift
  for crate in "$@"; do
    (cd "$dir" && cargo tree -q -i "$crate" -e normal,build --prefix none -f '{p}' | awk '{print $1}')
  done | sort -u | grep -vx bench-service || true
}
new_crates() { comm -13 <(grep '^name' "$base/Cargo.lock" | sort -u) <(grep '^name' "$1/Cargo.lock" | sort -u) | cut -d'"' -f2; }

stamp=$(date +%s)
lines="$work/lines.json"
: > "$lines"
for event in a b c; do
  dir="$work/$event"
  case "$event" in
    a) changed=(uuid) ;;
    b) changed=(tokio) ;;
    c) mapfile -t changed < <(new_crates "$dir") ;;
  esac
  args=(--arg baseSrc "$base" --arg baseVendor "$(vendor_of "$base")" --arg src "$dir"
    --arg vendor "$(vendor_of "$dir")" --arg cargoInheritVendor "$(vendor_of "$root")" --argstr stamp "$stamp")
  echo ">> event $event: ${changed[*]}" >&2
  nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/bump.nix" "${args[@]}" -A base > /dev/null
  for how in scratch onBase; do
    echo ">> $event $how" >&2
    out=$(nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/bump.nix" "${args[@]}" -A "$how")
    layer=$(nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/bump.nix" "${args[@]}" -A "$how.layer")
    python3 - "$event" "$how" <(report_of "$out") <("$ci" inspect --json "$layer/layer") \
      "$(expected "$dir" "${changed[@]}" | paste -sd,)" "${changed[*]}" >> "$lines" <<'PY'
import json, sys
event, how, report, inspect, expected, changed = sys.argv[1:]
r = json.load(open(report))
print(json.dumps({
    "event": event, "how": how, "changed": changed.split(),
    "expected": sorted(filter(None, expected.split(","))),
    "compiled": sorted(r["rebuilt"]["dependencies"]), "units": r["rebuilt"]["units"],
    "seconds": round(r["inherit_seconds"] + r["cargo_seconds"] + r["install_seconds"], 2),
    "stored_bytes": json.load(open(inspect))["layers"][0]["stored_bytes"],
}))
PY
  done
done

mkdir -p "$results"
python3 - "$lines" "$results/bump-service" "$(nproc) cores, $(date -u +%F)" <<'PY'
import json, sys
lines, prefix, machine = sys.argv[1:]
rows = [json.loads(l) for l in open(lines)]
cells = {(r["event"], r["how"]): r for r in rows}
names = {"a": "(a) uuid 1.29.3 -> 1.29.2", "b": "(b) tokio 1.54.1 -> 1.54.0", "c": "(c) + toml 0.8 (6 new crates)"}
out = [f"### Dependency bump, workload `service`, {machine}", "",
       "| event | deps from nothing (crane) | on the deps before (cargo-inherit) | time | bytes | compiled = changed + dependents |",
       "|---|---|---|---|---|---|"]
for e in "abc":
    s, o = cells[(e, "scratch")], cells[(e, "onBase")]
    exact = "yes" if o["compiled"] == o["expected"] else f"no: extra {sorted(set(o['compiled']) - set(o['expected']))}, missing {sorted(set(o['expected']) - set(o['compiled']))}"
    out.append(f"| {names[e]} | {len(s['compiled'])} crates, {s['units']} units, {s['seconds']} s, {s['stored_bytes']/1e6:.1f} MB "
               f"| {len(o['compiled'])} crates, {o['units']} units, {o['seconds']} s, {o['stored_bytes']/1e6:.1f} MB "
               f"| {100*o['seconds']/s['seconds']:.1f}% ({s['seconds']/o['seconds']:.1f}x faster) "
               f"| {100*o['stored_bytes']/s['stored_bytes']:.1f}% | {exact} |")
out += ["", "Compiled on the deps before:"] + [f"- {names[e]}: {', '.join(cells[(e, 'onBase')]['compiled'])}" for e in "abc"]
json.dump(rows, open(prefix + ".json", "w"), indent=1)
open(prefix + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
