#!/usr/bin/env bash
# What pack and unpack hold in memory (peak RSS, release binary, every core)
# on a target/ holding one large file, compressible and not, beside the
# bound the README states: per thread, a frame and its compressed copy.
#
#   benches/memory.sh [MIB]        (default: 1024)
#
# Environment: BENCH_DIR (work dir, default /tmp/cargo-inherit-memory).
# Prints a Markdown table; writes it to benches/results/memory.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mib="${1:-1024}"
work="${BENCH_DIR:-/tmp/cargo-inherit-memory}"
rm -rf "$work"
mkdir -p "$work"
cargo build --release --locked --manifest-path "$root/Cargo.toml" -q
ci="$root/target/release/cargo-inherit"
threads="$(nproc)"

# peak CMD...: runs CMD and prints its peak RSS in MB, read from its
# rusage by a small parent (a child's peak counts its parent's memory).
peak() {
  python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1000, 1))' "$@"
}

# content KIND PATH: MIB MiB that compress (a pattern differing per MiB) or not.
content() {
  python3 - "$1" "$2" "$mib" <<'PY'
import os, sys
kind, path, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "wb") as out:
    for i in range(mib):
        out.write(os.urandom(1 << 20) if kind == "incompressible" else bytes([i % 251]) * (1 << 20))
PY
}

frame_mb=$(( 128 * 1048576 / 1000000 ))
bound=$(( threads * 2 * frame_mb ))
table="$work/memory.md"
{
  echo "One ${mib} MiB file in target/, default settings (128 MiB frames, level auto), $threads threads."
  echo "Bound: $threads threads x (128 MiB frame + its compressed copy) = $bound MB, plus the binary and its tables."
  echo
  echo "| content | layer bytes | pack peak RSS | unpack peak RSS | bound |"
  echo "|---|---|---|---|---|"
} > "$table"
for kind in compressible incompressible; do
  content "$kind" "$work/$kind/tree/release/big"
  pack=$(peak "$ci" pack --target-dir "$work/$kind/tree" --out "$work/$kind/layer")
  stored=$(du -sb "$work/$kind/layer" | cut -f1)
  unpack=$(peak "$ci" unpack --from "$work/$kind/layer" --target-dir "$work/$kind/target")
  cmp "$work/$kind/tree/release/big" "$work/$kind/target/release/big"
  echo "| $kind | $(( stored / 1000000 )) MB | $pack MB | $unpack MB | $bound MB |" >> "$table"
  rm -rf "$work/$kind"
done
cat "$table"
mkdir -p "$root/benches/results"
cp "$table" "$root/benches/results/memory.md"
