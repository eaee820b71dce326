#!/usr/bin/env bash
# This machine's bound for crane use-zstd's inherit of one derivation's
# archives (issue 28), least of BOUND_REPS runs (default 5), each meeting
# the machine as bounds.sh's runs do (a directory of its own, nothing
# deleted just before, a pause of BOUND_SETTLE seconds before each write), so
# that a goal set against crane's figure can be read against what crane's
# way could reach:
#   zstd: CPU seconds of `zstd -d` over each archive (single-threaded, as
#     crane runs it);
#   tar: wall seconds of `tar -x` from each archive's tar, read from memory,
#     into the run's directory: the write.
# crane extracts the chain's archives one after another, each through
# `zstd -d | tar -x`, two processes side by side: its bound is the sum over
# the archives of the larger of the two. Prints one JSON line.
#
#   benches/crane-bound.sh NAME OUT     (OUT: a crane output, target.tar.zst inside)
set -euo pipefail
name="$1" out="$2"
reps="${BOUND_REPS:-5}"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# shellcheck source=timing.sh
source "$(dirname "$0")/timing.sh"

# The chain's archives, the first one extracted first (the `.prev` links).
archives=()
archive="$out/target.tar.zst"
while [ -f "$archive" ]; do
  archives=("$archive" "${archives[@]}")
  archive=$(readlink -f "$archive.prev" 2> /dev/null || true)
  [ -n "$archive" ] || break
done
[ "${#archives[@]}" -gt 0 ] || { echo "crane-bound.sh: no target.tar.zst in $out" >&2; exit 1; }

for i in "${!archives[@]}"; do
  zstd -d -q -c "${archives[i]}" > "$work/$i.tar"
done
: > "$work/samples"
for rep in $(seq "$reps"); do
  zstd_cpu=0 tar_wall=0 bound=0
  tree=$(fresh_dir "tree$rep")
  for i in "${!archives[@]}"; do
    cat "${archives[i]}" "$work/$i.tar" > /dev/null
    read -r _ z < <(timed zstd -d -q -c "${archives[i]}")
    settle
    read -r t _ < <(timed tar -x -f "$work/$i.tar" -C "$tree" --strip-components=1)
    read -r zstd_cpu tar_wall bound < <(awk -v a="$zstd_cpu" -v b="$tar_wall" -v c="$bound" -v z="$z" -v t="$t" \
      'BEGIN { printf "%.2f %.2f %.2f\n", a + z, b + t, c + (z > t ? z : t) }')
  done
  echo "$zstd_cpu $tar_wall $bound" >> "$work/samples"
done
field() { awk -v f="$1" '{ print $f }' "$work/samples" | least; }
python3 - "$name" "${#archives[@]}" "$(field 1)" "$(field 2)" "$(field 3)" <<'EOF'
import json, sys
name, count = sys.argv[1], int(sys.argv[2])
zstd_cpu, tar_seconds, bound = map(float, sys.argv[3:])
print(json.dumps({"tree": name, "archives": count, "zstd_cpu_seconds": zstd_cpu,
                  "tar_seconds": tar_seconds, "bound_seconds": bound}))
EOF
