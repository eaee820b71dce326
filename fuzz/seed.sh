#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target from real inputs: a layer and
# crane's archive of a small target tree (rlib around its rmeta, hard link,
# symlink, build-script output), and a rustc command line cargo ran.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cargo build -q --release --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/release/cargo-inherit"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tree="$work/tree/release"
mkdir -p "$tree/deps" "$tree/.fingerprint/x-1" "$tree/build/x-1/out"
printf 'rust\0\0\0%03000d' 0 > "$tree/deps/libx-1.rmeta"
{ printf '!<arch>\nlib.rmeta/'; cat "$tree/deps/libx-1.rmeta"; printf '%05000d' 9; } > "$tree/deps/libx-1.rlib"
head -c 20000 /dev/zero | tr '\0' 'x' > "$tree/deps/x-1"
ln "$tree/deps/x-1" "$tree/x"
printf '0123456789abcdef' > "$tree/.fingerprint/x-1/lib-x"
printf 'pub fn f() {}' > "$tree/build/x-1/out/gen.rs"
ln -s ../deps/x-1 "$tree/build/link"
"$ci" -q pack --target-dir "$work/tree" --out "$work/layer" --frame-size 4000
"$ci" -q export --from "$work/layer" --out "$work/crane"

corpus="$here/corpus"
mkdir -p "$corpus"/{manifest,layer,crane_archive,wrapper_args}
cp "$work/layer/manifest.json" "$corpus/manifest/real-layer"
python3 - "$work/layer" "$corpus/layer/real-layer" <<'PY'
import sys
layer, out = sys.argv[1], sys.argv[2]
manifest = open(f"{layer}/manifest.json", "rb").read()
blobs = open(f"{layer}/blobs.zst", "rb").read()
assert len(manifest) < 1 << 16
open(out, "wb").write(len(manifest).to_bytes(2, "big") + manifest + blobs)
PY
cp "$work/crane/target.tar.zst" "$corpus/crane_archive/real-archive"

# A compile as cargo runs it, one argument per line.
cargo new -q --lib --vcs none "$work/probe"
(cd "$work/probe" && cargo build -v 2>&1) | sed -n 's/^ *Running `\(.*rustc .*--crate-type lib.*\)`$/\1/p' | head -1 \
  | python3 -c 'import shlex, sys; sys.stdout.write("\n".join(shlex.split(sys.stdin.read())[1:]))' \
  > "$corpus/wrapper_args/real-compile"
printf -- '-vV' > "$corpus/wrapper_args/probe-version"
ls -l "$corpus"/*
