#!/usr/bin/env bash
# Benchmark for issue 23: a monorepo fanned out per service
# (benches/workloads/monorepo, eight services). For crane use-zstd (as
# chain.sh emulates it), cargo-inherit layered and cargo-inherit symlink:
# the deps derivation once, then a release build per service (`-p svc`) on
# it; beside them cargo-inherit's deps for the workspace's union only
# (fanOut = false), and both strategies with unifyFeatures (a generated
# workspace-hack: the union's units only, every service built with the
# union's features). In real sandboxed Nix builds, one run, interleaved.
#
# Per service: inherit + cargo + install seconds, dependency units compiled,
# bytes the derivation adds to the store. Per deps derivation: seconds and
# bytes (its layer's stored bytes; crane's archive).
#
#   benches/fanout.sh        writes benches/results/fanout-monorepo.{json,md}
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/benches/workloads/monorepo"
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
services=(gateway users billing notifier search metrics admin batch)
service_list="[ $(printf '"%s" ' "${services[@]}")]"
args=(--arg src "$src" --arg vendor "$(vendor_of "$src")" --arg cargoInheritVendor "$(vendor_of "$root")"
  --arg services "$service_list" --argstr stamp "$(date +%s)")
nix_build() { nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/fanout.nix" "${args[@]}" "$@"; }

# The bytes a derivation stores: its layer's (ours) or its archive (crane's).
stored() { # OUT LAYER_OUTPUT_OR_EMPTY
  if [ -n "$2" ] && [ -e "$2/layer/manifest.json" ]; then json_at <("$ci" inspect --json "$2/layer") layers.0.stored_bytes
  elif [ -n "$2" ] && [ -e "$2/layer/target" ]; then du -sb --apparent-size "$2/layer/target" | cut -f1
  elif [ -f "$1/target.tar.zst" ]; then stat -c %s "$1/target.tar.zst"
  else echo 0; fi
}
# NAR bytes of every output of the derivation that built OUT.
nar_bytes() {
  # shellcheck disable=SC2046 # one argument per output path
  nix --extra-experimental-features nix-command path-info --json $(nix-store -q --outputs "$(nix-store -q --deriver "$1")") \
    | python3 -c 'import json, sys; print(sum(i["narSize"] for i in json.load(sys.stdin)))'
}

lines="$work/lines.json"
: > "$lines"
# Interleaved: each derivation for every strategy before the next, so that
# a change of load on the machine falls on every strategy alike.
strategies=(crane-zstd layered symlink union layered-unified symlink-unified)
for attr in deps "${services[@]}"; do
  for strategy in "${strategies[@]}"; do
    [ "$strategy" != union ] || [ "$attr" = deps ] || continue
    echo ">> $strategy $attr" >&2
    built=$(nix_build --argstr strategy "$strategy" -A "$attr" -A "$attr.layer" 2> "$work/log" \
      || nix_build --argstr strategy "$strategy" -A "$attr" 2>> "$work/log") || { tail -20 "$work/log"; exit 1; }
    out=$(sed -n 1p <<< "$built") layer=$(sed -n 2p <<< "$built")
    printf '{"strategy":"%s","derivation":"%s","report":%s,"stored_bytes":%s,"nar_bytes":%s}\n' \
      "$strategy" "$attr" "$(report_of "$out")" "$(stored "$out" "$layer")" "$(nar_bytes "$out")" >> "$lines"
  done
done

mkdir -p "$results"
python3 "$root/benches/fanout-table.py" "$lines" "$results/fanout-monorepo" "$(nproc) cores, $(date -u +%F)"
