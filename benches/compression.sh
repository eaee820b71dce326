#!/usr/bin/env bash
# Benchmark for issue 16: what the deps layer of benches/workloads/service
# (the chain bench's, built in real Nix) costs to store and to lay out, per
# zstd setting, beside crane use-zstd's `tar | zstd -T0` of the same tree in
# the same run:
#   levels 1 3 6 9 12 15 19, with and without long-distance matching, at the
#   default 64 MiB frames; frames of 128 and 256 MiB at levels 3, 9 and 15.
# Each pack is timed (wall, CPU = user + system) and its layer's bytes
# (blobs + manifest) counted; each layer is then unpacked into memory
# (/dev/shm), so the figure is decompression and hashing, not the disk's
# inode allocation (see benches/pack-unpack.sh), and timed the same way.
#
#   benches/compression.sh      writes benches/results/compression-service.{json,md}
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
results="$root/benches/results"
work="$(mktemp -d)"
shm="$(mktemp -d -p /dev/shm)"
trap 'chmod -R u+w "$work" "$shm" 2>/dev/null; rm -rf "$work" "$shm"' EXIT
mkdir -p "$results"
cores=$(nproc)
# shellcheck source=../nix/sandbox.sh
source "$root/nix/sandbox.sh"
cargo build -q --release --locked --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/release/cargo-inherit"

# The chain bench's deps derivation (layered), built once and kept by the stamp.
src="$root/benches/workloads/service"
vendor_of() { "$root/nix/run.sh" --print-vendor "$1"; }
deps=$(nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$root/benches/chain.nix" \
  --arg src "$src" --arg vendor "$(vendor_of "$src")" --arg cargoInheritVendor "$(vendor_of "$root")" \
  --argstr pname service --argstr stamp compression --argstr strategy layered -A deps)
layer=$(nix-store -q --outputs "$(nix-store -q --deriver "$deps")" | grep -- '-layer$')/layer
target="$work/target"
"$ci" unpack --from "$layer" --target-dir "$target" > /dev/null
"$ci" inspect "$layer" >&2

lines="$work/lines.json"
: > "$lines"
# timed CMD...: runs CMD after a sync; prints "wall cpu" seconds.
timed() {
  sync
  local TIMEFORMAT='%R %U %S' t
  t=$({ time "$@" > /dev/null 2> "$work/err"; } 2>&1) || { cat "$work/err" >&2; return 1; }
  awk '{ printf "%s %.2f", $1, $2 + $3 }' <<< "$t"
}
size() { du -sb --apparent-size "$@" | awk '{ s += $1 } END { print s }'; }
record() { # NAME LEVEL LONG FRAME_MIB PACK(wall cpu) BYTES UNPACK(wall cpu)
  printf '{"name":"%s","level":%s,"long":%s,"frame_mib":%s,"pack_wall":%s,"pack_cpu":%s,"bytes":%s,"unpack_wall":%s,"unpack_cpu":%s}\n' \
    "$1" "$2" "$3" "$4" $5 "$6" $7 >> "$lines"
}

measure() { # LEVEL LONG FRAME_MIB
  local name="L$1-${2/true/ldm}-$3M" out="$work/layer" into="$shm/target" pack unpack
  name="${name/false/noldm}"
  echo ">> $name" >&2
  pack=$(timed "$ci" pack --target-dir "$target" --out "$out" --level "$1" --long-distance "$2" --frame-size $(($3 << 20)))
  unpack=$(timed "$ci" unpack --from "$out" --target-dir "$into")
  record "$name" "$1" "$2" "$3" "$pack" "$(size "$out/blobs.zst" "$out/manifest.json")" "$unpack"
  chmod -R u+w "$out" "$into"
  rm -rf "$out" "$into"
}

# crane use-zstd's install and inherit of the same tree (zstd's default level 3).
crane_pack() { tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C "$work" -c target | zstd -q -T"$cores" > "$work/target.tar.zst"; }
crane_unpack() { mkdir -p "$shm/crane" && zstd -d -q -c "$work/target.tar.zst" | tar -x -C "$shm/crane"; }
echo ">> crane tar | zstd -T$cores" >&2
pack=$(timed crane_pack)
unpack=$(timed crane_unpack)
record "crane: tar, zstd -T$cores" 3 false 0 "$pack" "$(size "$work/target.tar.zst")" "$unpack"
rm -rf "$work/target.tar.zst" "$shm/crane"

for level in 1 3 6 9 12 15 19; do
  for long in true false; do measure "$level" "$long" 64; done
done
for frame in 128 256; do
  for level in 3 9 15; do measure "$level" true "$frame"; done
done

python3 "$root/benches/compression-table.py" "$lines" "$(size "$target")" "$cores" \
  "$results/compression-service"
cat "$results/compression-service.md"
