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

# Hostile inputs that once got through (issue 25), each the real layer
# edited: a foreign parent that is a device, a blob larger than any may be,
# symlinks that lead cargo's writes out of the tree, names and paths no file
# system takes, a NUL in a link target, a relative parent.
python3 - "$work/layer" "$corpus" <<'PY'
import copy, json, sys
layer, corpus = sys.argv[1], sys.argv[2]
manifest = json.load(open(f"{layer}/manifest.json"))
blobs = open(f"{layer}/blobs.zst", "rb").read()
def symlink(path, target):
    return {"kind": "symlink", "path": path, "target": target}
def edited(name, edit):
    m = copy.deepcopy(manifest)
    edit(m)
    text = json.dumps(m).encode()
    open(f"{corpus}/manifest/{name}", "wb").write(text)
    open(f"{corpus}/layer/{name}", "wb").write(len(text).to_bytes(2, "big") + text + blobs)
zero = "00" * 32
def foreign_device(size):
    def edit(m):
        m["entries"].append({"kind": "file", "path": "zz", "mode": 420, "size": size, "hash": zero})
        m["foreign"] = [{"path": "/dev", "files": ["zero"],
                         "blobs": [{"hash": zero, "frame": 0, "offset": 0, "size": size}]}]
    return edit
edited("foreign-dev-zero", foreign_device(1 << 20))
edited("foreign-huge-blob", foreign_device(65 << 20))
edited("symlink-out-of-tree", lambda m: m["entries"].append(symlink("zz", "/etc/passwd")))
edited("symlink-climbs-the-store", lambda m: m["entries"].append(symlink("zz", "/nix/store/../../etc/shadow")))
edited("symlink-nul", lambda m: m["entries"].append(symlink("zz", "a\u0000b")))
edited("name-too-long", lambda m: m["entries"].append(symlink("z" * 300, "x")))
edited("path-too-long", lambda m: m["entries"].append(symlink("/".join(["z" * 200] * 21), "x")))
edited("relative-parent", lambda m: m.update(parents=["relative/layer"]))
PY

# Crane archives: a POSIX sparse file, which tar-rs would lay out under its
# map's name, and a symlink out of the tree where cargo writes.
hostile="$work/hostile"
mkdir -p "$hostile/pax-sparse/target/release" "$hostile/symlink-out/target/release/.fingerprint/x-1"
truncate -s 4M "$hostile/pax-sparse/target/release/hole"
printf end >> "$hostile/pax-sparse/target/release/hole"
ln -s /etc/passwd "$hostile/symlink-out/target/release/.fingerprint/x-1/bin-x"
for name in pax-sparse symlink-out; do
  tar -C "$hostile/$name" --format=posix --sparse -cf "$work/$name.tar" target
  python3 - "$work/$name.tar" "$corpus/crane_archive/$name" <<'PY'
import sys
# A zstd frame of raw blocks (RFC 8878), so no zstd command is needed:
# magic, a single segment with its 8-byte content size, then the blocks.
data = open(sys.argv[1], "rb").read()
out = bytearray(b"\x28\xb5\x2f\xfd\xe0") + len(data).to_bytes(8, "little")
step = 1 << 17
for at in range(0, len(data), step):
    block = data[at:at + step]
    header = len(block) << 3 | int(at + step >= len(data))  # block type 0: raw
    out += header.to_bytes(3, "little") + block
open(sys.argv[2], "wb").write(out)
PY
done

# A compile as cargo runs it, one argument per line.
cargo new -q --lib --vcs none "$work/probe"
(cd "$work/probe" && cargo build -v 2>&1) | sed -n 's/^ *Running `\(.*rustc .*--crate-type lib.*\)`$/\1/p' | head -1 \
  | python3 -c 'import shlex, sys; sys.stdout.write("\n".join(shlex.split(sys.stdin.read())[1:]))' \
  > "$corpus/wrapper_args/real-compile"
printf -- '-vV' > "$corpus/wrapper_args/probe-version"
ls -l "$corpus"/*
