#!/usr/bin/env bash
# Benchmark for issue 2: cargo-inherit pack/unpack against crane's use-zstd
# commands, on the release target/ of a real workspace, in one run.
#
#   benches/pack-unpack.sh [WORKLOAD_DIR]      (default: benches/workloads/service)
#
# Environment: BENCH_DIR (work dir, kept between runs so the cold build is
# paid once; default /tmp/cargo-inherit-bench), REPS (default 5).
#
# Every timed step starts after `sync` with warm caches; steps of the two
# tools alternate and the median of REPS runs is reported.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
workload="$(cd "${1:-$root/benches/workloads/service}" && pwd)"
work="${BENCH_DIR:-/tmp/cargo-inherit-bench}"
reps="${REPS:-5}"
cores="$(nproc)"
mkdir -p "$work"

cargo build --release --locked --manifest-path "$root/Cargo.toml" -q
ci="$root/target/release/cargo-inherit"

log() { printf '>> %s\n' "$*" >&2; }
# timed NAME CMD...: runs CMD after a sync, appends its wall seconds to
# $work/times/NAME and its CPU seconds (user + system) to $work/times/NAME.cpu.
timed() {
  local name="$1"; shift
  sync
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>&3; } 3>&2 2> "$work/times/last"
  awk '{ print $1 }' "$work/times/last" >> "$work/times/$name"
  awk '{ print $2 + $3 }' "$work/times/last" >> "$work/times/$name.cpu"
}
median() { sort -g "$work/times/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Every file of a tree once (hard links once) into one new file.
cat_tree() { find "$1" -type f -printf '%i\t%p\0' | sort -zu -t$'\t' -k1,1 | cut -z -f2- | xargs -0 cat > "$2"; }
size() { du -sb --apparent-size "$@" | awk '{ s += $1 } END { print s }'; }
fresh_dir() { chmod -R u+w "$1" 2>/dev/null || true; rm -rf "$1"; }
count_rebuilt() { grep '"reason":"compiler-artifact"' | grep -c '"fresh":false' || true; }

# crane use-zstd, written from its description: a full archive, or (when
# artifacts were inherited) only what is newer than an epoch+1 marker.
crane_tar() { tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner "$@" | zstd -q -T"$cores"; }
crane_pack() { (cd "$1" && crane_tar --mode=u+w -c target > "$2"); }                # DIR_WITH_TARGET OUT
crane_pack_diff() { (cd "$1" && find target -newer "$3" -print0 | crane_tar --null --no-recursion -c -T - > "$2"); }
crane_unpack() { zstd -d -q -c "$1" | tar -x -C "$2"; }

# --- the workload, as a Nix build sees it: vendored sources, mtime 1 ----------
src="$work/src"
if [ ! -d "$work/vendor" ]; then
  log "vendoring $workload"
  rm -rf "$src" && cp -r "$workload" "$src" && rm -rf "$src/target"
  (cd "$src" && cargo vendor --locked --versioned-dirs -q "$work/vendor.tmp" > /dev/null)
  mv "$work/vendor.tmp" "$work/vendor"
fi
mkdir -p "$src/.cargo"
(source "$root/nix/lib/hooks/vendor.sh" && cargoInheritVendorConfig "$work/vendor" "$src/.cargo/config.toml")
cp "$workload/Cargo.toml" "$workload/Cargo.lock" "$src/"
mkdir -p "$src/src" && echo 'fn main() {}' > "$src/src/main.rs"   # deps-only: dummy sources
find "$work/vendor" "$src" -path "$src/target" -prune -o -exec touch -h -d @1 {} +

log "deps-only release build (cold the first time)"
# Dummy sources have mtime 1 like everything else, so cargo would take a
# member built from real sources in an earlier run for fresh: clean it.
pkg=$(sed -n 's/^name = "\(.*\)"/\1/p' "$src/Cargo.toml" | head -1)
(cd "$src" && cargo clean --release --offline -q -p "$pkg" 2>/dev/null || true)
(cd "$src" && cargo build --release --offline --locked -q)
crates=$(grep -c '^name = ' "$src/Cargo.lock")
logical=$(size "$src/target")
files=$(find "$src/target" -type f | wc -l)

# --- layer 1: pack and unpack, both tools, alternating ------------------------
# No timed step follows a mass deletion: on a journal-less ext4 the inode
# allocator skips inodes freed in the last minute one by one, which would
# slow both tools' file creation alike and hide the difference. Old outputs
# are removed first, then the bench waits that minute out once.
out="$work/out"
if [ -d "$out" ]; then
  fresh_dir "$out" && sync
  log "letting the file system forget the deleted outputs (65 s)"
  sleep 65
fi
rm -rf "$work/times" && mkdir -p "$work/times" "$out"
for i in $(seq "$reps"); do
  log "round $i/$reps"
  timed ours_pack "$ci" pack -q --target-dir "$src/target" --out "$out/l1-$i"
  timed crane_pack crane_pack "$src" "$out/crane-$i.tar.zst"
  timed ours_unpack "$ci" unpack -q --from "$out/l1-$i" --target-dir "$out/ours-$i/target"
  mkdir -p "$out/crane-$i" && timed crane_unpack crane_unpack "$out/crane-$i.tar.zst" "$out/crane-$i"
  timed zstd_only sh -c "zstd -d -q -c '$out/crane-$i.tar.zst' > /dev/null"
  timed write_floor cat_tree "$out/ours-$i/target" "$out/floor-$i"
done
cp -r "$out/l1-1" "$out/l1"
ours_size=$(size "$out/l1")
crane_size=$(size "$out/crane-1.tar.zst")

# --- layer 2: inherit layer 1, build the real workspace, pack on top ----------
log "layer 2: unpack layer 1, build the real sources, pack on top"
fresh_dir "$src/target"
"$ci" unpack -q --from "$out/l1" --target-dir "$src/target"
cp "$workload/src/"*.rs "$src/src/"   # the real sources: edited, so current mtimes
rebuilt=$(cd "$src" && cargo build --release --offline --locked --message-format=json | count_rebuilt)
touch -d @1 "$work/marker"
fresh_dir "$out/l2" && "$ci" pack -q --target-dir "$src/target" --out "$out/l2" --parent "$out/l1"
rm -f "$out/crane2.tar.zst" && crane_pack_diff "$src" "$out/crane2.tar.zst" "$work/marker"
ours2=$(size "$out/l2/blobs.zst")
ours2_all=$(size "$out/l2")
ours1_blobs=$(size "$out/l1/blobs.zst")
crane2=$(size "$out/crane2.tar.zst")

# --- report -------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f MB", a / 1e6 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f%%", 100 * a / b }'; }
cat <<EOF

## pack / unpack, $(date -u +%Y-%m-%d), $cores cores, $(df --output=fstype "$work" | tail -1) disk
workload: $(basename "$workload"), $crates crates, release target/ $(mb "$logical") in $files files; median of $reps runs

| step | crane use-zstd | cargo-inherit | ratio (crane / ours) | goal |
|---|---|---|---|---|
| pack (s) | $(median crane_pack) | $(median ours_pack) | $(ratio "$(median crane_pack)" "$(median ours_pack)") | >= 2x |
| pack, CPU (s, user + system) | $(median crane_pack.cpu) | $(median ours_pack.cpu) | $(ratio "$(median crane_pack.cpu)" "$(median ours_pack.cpu)") | |
| unpack (s) | $(median crane_unpack) | $(median ours_unpack) | $(ratio "$(median crane_unpack)" "$(median ours_unpack)") | >= 3x |
| unpack, CPU (s, user + system) | $(median crane_unpack.cpu) | $(median ours_unpack.cpu) | $(ratio "$(median crane_unpack.cpu)" "$(median ours_unpack.cpu)") | |
| stored, deps-only layer | $(mb "$crane_size") | $(mb "$ours_size") | ours = $(ratio "$ours_size" "$crane_size") of crane | <= 0.75x |
| stored, layer 2 (full build on top; $rebuilt units rebuilt) | $(mb "$crane2") | $(mb "$ours2_all") | blobs = $(pct "$ours2" "$ours1_blobs") of layer 1 | <= 5% |

zstd -d alone on crane's archive: $(median zstd_only) s.
Writing the tree's bytes once, \`cat\` of every file into one new file on one core: $(median write_floor) s
($(median write_floor.cpu) s CPU), the kernel's cost of filling fresh page-cache pages that any
unpack to writable files pays, spread over however many cores it writes from.
EOF
