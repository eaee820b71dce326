#!/usr/bin/env bash
# The main job, end to end on the bundled fixture (tests/fixtures/basic), in
# real sandboxed Nix builds (Nix is installed when missing): a deps-only
# layer from the workspace skeleton, the build on top of it, then clippy,
# test and doc on top of the build, once with layers (pack/unpack) and once
# with the symlink strategy (link + cargo-inherit-rustc). Prints, for every
# derivation, the seconds to inherit, run cargo and install, the bytes it
# stores and the units cargo rebuilt; then runs the built binary.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
outputs="$(mktemp)"
trap 'rm -f "$outputs"' EXIT
for strategy in layered symlink; do
  echo "== strategy: $strategy"
  : > "$outputs"
  CARGO_INHERIT_OUTPUTS="$outputs" "$root/nix/run.sh" "$root/tests/fixtures/basic" "$strategy" 2> /dev/null
  build=$(sed -n 's/^build=//p' "$outputs")
  echo "$build/bin/app: $("$build/bin/app")"
  echo
done
