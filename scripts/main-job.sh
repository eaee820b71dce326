#!/usr/bin/env bash
# The main job, end to end on the bundled fixture (tests/fixtures/basic):
# vendor, build the dependencies, pack a layer, then in a fresh target
# unpack it and build the workspace, counting the units cargo rebuilt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

cargo build --release --locked --manifest-path "$root/Cargo.toml" -q
ci="$root/target/release/cargo-inherit"

cp -r "$root/tests/fixtures/basic" "$work/source"
cd "$work/source"
cargo vendor --locked --versioned-dirs -q "$work/vendor" > /dev/null
mkdir -p .cargo
printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "%s"\n' "$work/vendor" > .cargo/config.toml
# What the Nix store gives every source: mtime 1.
find "$work/vendor" "$work/source" -exec touch -h -d @1 {} +

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
rebuilt() { grep '"reason":"compiler-artifact"' | grep -c '"fresh":false' || true; }

t0=$(seconds)
deps_rebuilt=$(cargo build --offline --message-format=json | rebuilt)
t1=$(seconds)
"$ci" pack --target-dir target --out "$work/layer"
t2=$(seconds)
chmod -R a-w "$work/layer"
rm -rf target
"$ci" unpack --from "$work/layer" --target-dir target
t3=$(seconds)
after_rebuilt=$(cargo build --offline --message-format=json | rebuilt)
t4=$(seconds)
"$ci" inspect "$work/layer"

printf '\n%-28s %8s %10s\n' step seconds "units rebuilt"
printf '%-28s %8.2f %10s\n' "cargo build (cold)" "$(elapsed $t0 $t1)" "$deps_rebuilt"
printf '%-28s %8.2f %10s\n' "cargo-inherit pack" "$(elapsed $t1 $t2)" -
printf '%-28s %8.2f %10s\n' "cargo-inherit unpack" "$(elapsed $t2 $t3)" -
printf '%-28s %8.2f %10s\n' "cargo build (inherited)" "$(elapsed $t3 $t4)" "$after_rebuilt"
./target/debug/app
[ "$after_rebuilt" -eq 0 ] || { echo "FAIL: $after_rebuilt units rebuilt after unpack" >&2; exit 1; }
