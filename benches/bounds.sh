#!/usr/bin/env bash
# This machine's bounds for laying out a layer's tree (issue 28), on all
# cores, each the least of BOUND_REPS runs (default 5):
#   write: the tree's directories and files written anew, as
#     unpack writes them (each file's bytes once, hard links as links, mtime
#     1), one writer per core: what any layout to writable files pays;
#   zstd: CPU seconds of `zstd -d` over the chain's frames (blobs.zst);
#   blake3: CPU seconds of b3sum over the tree (the verification).
# The bound is the larger of the write's wall time and all three's CPU
# seconds spread over the cores: decompression, hashing and writing
# overlapped perfectly. Beside it, the most a write took (the spread),
# `cargo-inherit unpack` of the layer on the host (least of the runs), and
# the median over the runs of that unpack against the bound of its own
# run: unpack's distance to the bound in one memory state.
# Prints one JSON line.
# Each run meets the disk and memory a Nix build's inherit meets: it writes
# into directories of its own (ext2/3/4's top-directory flag, as unpack's
# spread directory) and nothing is deleted while the runs last, and it
# starts after a pause (BOUND_SETTLE seconds, default 5) in which the
# pages freed before it are handed back to the host. A first version
# deleted the last run's copy right before each write and took the least
# of the runs, which found states no inherit meets: ext4 counts an inode
# as recently deleted (and skips it, one by one, when it allocates) only
# from the second after its deletion, and page-cache pages freed a moment
# earlier are still backed by the host (`dd` of 700 MB into a new file:
# 0.17 s right after deleting another such file, 1.2-1.4 s when 6 s have
# passed; virtio-balloon free page reporting, negotiated on these VMs,
# hands freed pages back after about 2 s). Its least write of the
# service deps tree was 0.17 s; written the Nix way it took 0.8-2.6 s,
# most of it in copy_folio_from_iter_atomic (perf: 61%) filling fresh
# page-cache pages (runs of 2026-12-03). (Before that, a copy of the tree
# by Python threads wrote every hard link's bytes again.)
#
#   benches/bounds.sh NAME LAYER     (LAYER: a layer directory, manifest.json inside)
set -euo pipefail
name="$1" layer="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${BOUND_REPS:-5}"
cores=$(nproc)
command -v b3sum > /dev/null || { apt-get update -qq && apt-get install -y -qq b3sum > /dev/null; }
cargo build -q --release --locked --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/release/cargo-inherit"
cargo build -q --release --locked --manifest-path "$root/benches/report/Cargo.toml" --bin write-floor
floor="$root/benches/report/target/release/write-floor"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# shellcheck source=timing.sh
source "$(dirname "$0")/timing.sh"
"$ci" unpack -q --from "$layer" --target-dir "$work/tree"

# The chain's frames: this layer's and its parents' (manifest.json names them).
frames() {
  python3 - "$1" <<'EOF'
import json, os, sys
seen, todo = [], [sys.argv[1]]
while todo:
    layer = todo.pop()
    if layer in seen:
        continue
    seen.append(layer)
    manifest = json.load(open(os.path.join(layer, "manifest.json")))
    todo += [p if os.path.isabs(p) else os.path.join(layer, p) for p in manifest.get("parents", [])]
for layer in seen:
    blobs = os.path.join(layer, "blobs.zst")
    if os.path.exists(blobs):
        print(blobs)
EOF
}
# The tree written anew, as unpack writes it (write-floor.rs):
# prints its wall and CPU seconds.
write_tree() { # FROM TO
  "$floor" "$1" "$2" "$cores"
}

mapfile -t blobs < <(frames "$layer")
# Read once before timing: every measure reads from the page cache.
cat "${blobs[@]}" > /dev/null
find "$work/tree" -type f -exec cat {} + > /dev/null
: > "$work/samples"
for rep in $(seq "$reps"); do
  copy="$(fresh_dir "copy$rep")/tree" unpacked="$(fresh_dir "unpacked$rep")/tree"
  settle
  read -r write_wall write_cpu < <(write_tree "$work/tree" "$copy")
  read -r _ zstd_cpu < <(timed sh -c 'for f; do zstd -d -q -c "$f"; done' _ "${blobs[@]}")
  read -r _ b3_cpu < <(timed sh -c "find '$work/tree' -type f -print0 | xargs -0 b3sum --num-threads $cores")
  settle
  read -r unpack_wall _ < <(timed "$ci" unpack -q --from "$layer" --target-dir "$unpacked")
  echo "$write_wall $write_cpu $zstd_cpu $b3_cpu $unpack_wall" >> "$work/samples"
done
files=$(find "$work/tree" -type f | wc -l)
bytes=$(du -sb --apparent-size "$work/tree" | cut -f1)
python3 - "$name" "$files" "$bytes" "$cores" "$work/samples" <<'EOF'
import json, statistics, sys
name, files, bytes_, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# One run a line: write wall, write CPU, zstd CPU, blake3 CPU, unpack wall.
runs = [list(map(float, line.split())) for line in open(sys.argv[5]) if line.strip()]
def bound(write, write_cpu, zstd_cpu, b3_cpu):
    return max(write, (write_cpu + zstd_cpu + b3_cpu) / cores)
write, write_cpu, zstd_cpu, b3_cpu, unpack = (min(column) for column in zip(*runs))
over_own = statistics.median_high(run[4] / bound(*run[:4]) for run in runs)
print(json.dumps({"tree": name, "files": files, "bytes": bytes_, "cores": cores, "reps": len(runs),
                  "write_seconds": write, "write_cpu_seconds": write_cpu, "zstd_cpu_seconds": zstd_cpu,
                  "blake3_cpu_seconds": b3_cpu, "bound_seconds": round(bound(write, write_cpu, zstd_cpu, b3_cpu), 3),
                  "write_most_seconds": max(run[0] for run in runs), "host_unpack_seconds": unpack,
                  "host_unpack_over_bound": round(over_own, 3)}))
EOF
