#!/usr/bin/env bash
# Benchmark for issues 5 and 28: one chain of real sandboxed Nix derivations
# per strategy (crane use-zstd, crane use-symlink, cargo-inherit layered and
# symlink), side by side, on one workload:
#   deps-only (release) -> build -> clippy, test --no-run, doc; and `forced`,
#   the build with CC changed since the deps.
# Interleaved, so that a change of load on the machine falls on every
# strategy alike: each kind of derivation is built for all four before the
# next kind; every kind REPS times (default 3; a rep changes only that
# derivation), the strategies' order turned each rep. The deps DEPS_REPS
# times (default 5), after the first for crane use-zstd and layered only,
# the pair the deps goal compares: cargo's own time spreads by several
# percent from build to build, more than that goal allows.
# Then this machine's bounds for laying out the layered trees (bounds.sh)
# and for crane's extraction of its archives (crane-bound.sh).
#
#   benches/chain.sh [medium|service]    (default medium: tests/fixtures/medium, 42 crates)
#
# Writes benches/results/chain-WORKLOAD.{json,md,svg}. Installs Nix when
# missing (nix/run.sh); crates are vendored outside the sandbox, cached.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
workload="${1:-medium}"
case "$workload" in
  medium) src="$root/tests/fixtures/medium" ;;
  service) src="$root/benches/workloads/service" ;;
  *) echo "unknown workload $workload (medium or service)" >&2; exit 2 ;;
esac
results="$root/benches/results"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"

# crane's use-symlink inherit runs rsync (the host's, inside the sandbox).
command -v rsync > /dev/null || { apt-get update -qq && apt-get install -y -qq rsync > /dev/null; }
vendor_of() { "$root/nix/run.sh" --print-vendor "$1"; }
args=(--arg src "$src" --arg vendor "$(vendor_of "$src")" --arg cargoInheritVendor "$(vendor_of "$root")"
  --argstr pname "$workload" --argstr stamp "$(date +%s)")
# shellcheck source=../nix/sandbox.sh
source "$root/nix/sandbox.sh"
# shellcheck source=../nix/json.sh
source "$root/nix/json.sh"
nix_build() { nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/chain.nix" "${args[@]}" "$@"; }
# Every output of the derivation that built $1 (ours keep the layer apart from out).
nar_info() {
  # shellcheck disable=SC2046 # one argument per output path
  nix --extra-experimental-features nix-command path-info --json -S $(nix-store -q --outputs "$(nix-store -q --deriver "$1")")
}

# The whole machine's idle CPU ticks, iowait included (/proc/stat), for
# the core-seconds a build left idle.
idle_ticks() { awk '$1 == "cpu" { print $5 + $6 }' /proc/stat; }
idle_since() { # IDLE_TICKS
  awk -v a="$1" -v b="$(idle_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }'
}

# One JSON line per derivation built: strategy, derivation, rep, output,
# its report and sizes, the machine's idle core-seconds meanwhile, or the
# error that stopped it.
lines="$work/lines.json"
: > "$lines"
measure() { # STRATEGY KIND REP
  local strategy="$1" attr="$2" rep="$3" out error stamp=() idle
  echo ">> $strategy $attr (rep $rep)" >&2
  # Rep 1 is the chain's own derivation, the one later kinds inherit.
  if [ "$rep" != 1 ]; then stamp=(--argstr repKind "$attr" --argstr rep "$rep"); fi
  idle=$(idle_ticks)
  if out=$(nix_build --argstr strategy "$strategy" "${stamp[@]}" -A "$attr" 2> "$work/log"); then
    idle=$(idle_since "$idle")
    printf '{"strategy":"%s","derivation":"%s","rep":%s,"out":"%s","report":%s,"path_info":%s,"machine":{"idle_core_seconds":%s}}\n' \
      "$strategy" "$attr" "$rep" "$out" "$(report_of "$out")" "$(nar_info "$out")" "$idle" >> "$lines"
  else
    error=$(grep -m1 -e 'is not writeable' -e 'error:' "$work/log" | cut -c1-300 || true)
    python3 -c 'import json, sys; print(json.dumps({"strategy": sys.argv[1], "derivation": sys.argv[2], "rep": int(sys.argv[3]), "error": sys.argv[4]}))' \
      "$strategy" "$attr" "$rep" "${error:-failed}" >> "$lines"
    echo "   failed: $error" >&2
  fi
}
# The pair the goals compare next to each other, so that in the first
# rep too their deps builds follow one another.
strategies=(crane-zstd layered crane-symlink symlink)
for attr in deps build clippy test doc forced; do
  reps="${REPS:-3}"
  if [ "$attr" = deps ]; then reps="${DEPS_REPS:-5}"; fi
  for rep in $(seq "$reps"); do
    # The deps again only where a goal compares them (layered against
    # crane use-zstd, issue 28): a deps build takes minutes.
    each=("${strategies[@]}")
    if [ "$attr" = deps ] && [ "$rep" != 1 ]; then each=(crane-zstd layered); fi
    for i in "${!each[@]}"; do
      measure "${each[(i + rep - 1) % ${#each[@]}]}" "$attr" "$rep"
    done
  done
done

# The bounds of a layered inherit on this machine: the build lays out the
# deps layer, clippy, test and doc the build's layer on it.
bounds="$work/bounds.json"
: > "$bounds"
for attr in deps build; do
  layer=$(nix_build --argstr strategy layered -A "$attr.layer" 2> "$work/log") || { tail -5 "$work/log"; exit 1; }
  bash "$root/benches/bounds.sh" "$attr" "$layer/layer" >> "$bounds"
done
# And of crane use-zstd's inherit of the same derivations' archives.
crane_bounds="$work/crane-bounds.json"
: > "$crane_bounds"
for attr in deps build; do
  out=$(nix_build --argstr strategy crane-zstd -A "$attr" 2> "$work/log") || { tail -5 "$work/log"; exit 1; }
  bash "$root/benches/crane-bound.sh" "$attr" "$out" >> "$crane_bounds"
done

# Where Nix builds: the disk kind as the kernel reports it (virtual disks often say rotating).
disk=$(lsblk -dno ROTA "$(df --output=source /nix/store | tail -1)" 2> /dev/null | tr -d ' ' || true)
case "$disk" in 0) disk="SSD" ;; 1) disk="rotational disk" ;; *) disk="disk" ;; esac
machine="$(nproc) cores, $(df --output=fstype /nix/store | tail -1) on $disk"
cargo run -q --release --locked --manifest-path "$root/benches/report/Cargo.toml" --bin chain-report -- \
  "$lines" "$bounds" "$crane_bounds" "$workload" "$(date -u +%F)" "$machine" "$results/chain-$workload"
cat "$results/chain-$workload.md"
