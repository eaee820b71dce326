#!/usr/bin/env bash
# Builds nix/tests/pipeline.nix for a workspace in a real Nix sandbox, with
# the host toolchain exposed through sandbox-paths, and prints the report of
# every derivation.
#
#   nix/run.sh WORKSPACE_DIR [STRATEGY] [ATTR...]   (default: layered; deps build clippy test doc)
#   nix/run.sh --print-vendor WORKSPACE_DIR         (vendor it, print it as a Nix expression for --arg)
#
# Installs Nix (Debian's nix-bin) when missing; vendors crates outside the
# sandbox, cached under $CARGO_INHERIT_CACHE (default ~/.cache/cargo-inherit).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
print_vendor=0
if [ "$1" = --print-vendor ]; then print_vendor=1; shift; fi
workspace="$(cd "$1" && pwd)"
strategy="${2:-layered}"
shift $(( $# > 1 ? 2 : 1 ))
attrs=("$@")
[ ${#attrs[@]} -gt 0 ] || attrs=(deps build clippy test doc)
cache="${CARGO_INHERIT_CACHE:-$HOME/.cache/cargo-inherit}"

if ! command -v nix-build > /dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin > /dev/null
fi

# `cargo vendor` of a workspace, cached by its lockfile.
vendor() {
  local dir="$1" key
  key=$(sha256sum "$dir/Cargo.lock" | cut -c1-16)
  local out="$cache/vendor-$key"
  if [ ! -d "$out" ]; then
    mkdir -p "$cache"
    (cd "$dir" && cargo vendor --locked --versioned-dirs -q "$out.tmp" > /dev/null)
    # A workspace with no crates.io dependency vendors nothing.
    mkdir -p "$out.tmp"
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}

# The vendored crates added to the store once, as a Nix expression for
# --arg: a path argument would be hashed into the store again by every
# evaluation (seconds for cargo-inherit's own 83 MB).
vendor_in_store() {
  local dir stored
  dir=$(vendor "$1")
  if ! { [ -f "$dir.store" ] && stored=$(cat "$dir.store") && [ -e "$stored" ]; }; then
    stored=$(nix-store --add "$dir")
    echo "$stored" > "$dir.store"
  fi
  echo "builtins.storePath \"$stored\""
}

if [ "$print_vendor" = 1 ]; then vendor_in_store "$workspace"; exit 0; fi

# shellcheck source=sandbox.sh
source "$root/nix/sandbox.sh"
# shellcheck source=json.sh
source "$root/nix/json.sh"
nix_build() { nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$@"; }

args=(--arg src "$workspace" --arg vendor "$(vendor_in_store "$workspace")" --arg cargoInheritVendor "$(vendor_in_store "$root")"
  --argstr strategy "$strategy" --argstr pname "$(basename "$workspace")")
work_report="$(mktemp)"
trap 'rm -f "$work_report"' EXIT
printf '%-30s %8s %8s %8s %12s  %s\n' derivation inherit cargo install "stored bytes" "units rebuilt"
for attr in "${attrs[@]}"; do
  # The package (out) and its layer, an output of its own: one evaluation.
  built=$(nix_build "$root/nix/tests/pipeline.nix" -A "$attr" -A "$attr.layer" "${args[@]}")
  out=$(sed -n 1p <<< "$built") layer=$(sed -n 2p <<< "$built")
  report_of "$out" > "$work_report"
  field() { json_at "$work_report" "$1"; }
  units=$(field rebuilt.units)
  printf '%-30s %8s %8s %8s %12s  %s\n' "$(basename "$out" | cut -d- -f2-)" "$(field inherit_seconds)" \
    "$(field cargo_seconds)" "$(field install_seconds)" "$(field stored_bytes)" "$units"
  printf '%s\n' "$attr=$out" "$attr.layer=$layer" >> "${CARGO_INHERIT_OUTPUTS:-/dev/null}"
done
