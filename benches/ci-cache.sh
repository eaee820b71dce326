#!/usr/bin/env bash
# Benchmark for issue 27: eight CI runs of benches/workloads/service, each
# restoring target/ from a cache, building (cargo build, dev profile) and
# saving, in two ways side by side in one run:
#   tarball   the rust-cache way: one `tar | zstd -T0` of target/ per key,
#             restore keys by prefix (newest of the longest), the whole
#             archive written on every save
#   layered   cargo-inherit restore / save: layers on the chain restored from
# Both keep their store in a local directory (file://), so the figures are
# bytes and this machine's restore seconds, not a network's.
# Keys are per run under the lockfile's hash (svc-LOCK-runN), restore keys
# svc-LOCK- then svc-, as CI caches keyed by commit do.
# Runs: 1 cold, 2-3 edits, 4 a dependency bump (uuid), 5 an edit, 6 a new
# dependency (toml), 7 an edit, 8 back to the first lockfile.
#
#   benches/ci-cache.sh      writes benches/results/ci-cache-service.{json,md}
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
results="$root/benches/results"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build -q --release --locked --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/release/cargo-inherit"
src="$work/src"
cp -r "$root/benches/workloads/service" "$src"
cp "$src/Cargo.toml" "$work/Cargo.toml.first" && cp "$src/Cargo.lock" "$work/Cargo.lock.first"
stores="$work/stores" && mkdir -p "$stores/tarball" "$stores/layered"
export CARGO_TARGET_DIR="$src/target"

seconds() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.2f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }
bytes_of() { du -sb --apparent-size "$1" | cut -f1; }

# The rust-cache way. KEY RESTORE_KEY...: the archive restored, or nothing.
tar_restore() {
  local key="$1" prefix found=""; shift
  if [ -f "$stores/tarball/$key.tar.zst" ]; then found="$key"
  else
    for prefix in "$@"; do
      # shellcheck disable=SC2012 # names are ours: no newlines
      found=$(cd "$stores/tarball" && ls -t -- "$prefix"*.tar.zst 2> /dev/null | head -1 | sed 's/\.tar\.zst$//') || true
      [ -z "$found" ] || break
    done
  fi
  [ -n "$found" ] || return 0
  mkdir -p "$CARGO_TARGET_DIR"
  zstd -q -d -c "$stores/tarball/$found.tar.zst" | tar -x -C "$CARGO_TARGET_DIR"
}
tar_save() { # KEY: the whole target, as every save of that way uploads it
  tar -c -C "$CARGO_TARGET_DIR" . | zstd -q -T0 -3 -o "$stores/tarball/$1.tar.zst.partial"
  mv "$stores/tarball/$1.tar.zst.partial" "$stores/tarball/$1.tar.zst"
  stat -c %s "$stores/tarball/$1.tar.zst"
}

event() { # RUN: the change of that run to the sources
  case "$1" in
    1) ;;
    4) (cd "$src" && cargo update -q -p uuid --precise 1.29.2) ;;
    6) (cd "$src" && cargo add -q toml@0.8) ;;
    8) cp "$work/Cargo.toml.first" "$src/Cargo.toml" && cp "$work/Cargo.lock.first" "$src/Cargo.lock" ;;
    *) echo "pub fn edited_in_run_$1() {}" >> "$src/src/main.rs" ;;
  esac
}
describe() {
  case "$1" in 1) echo cold ;; 4) echo "bump uuid" ;; 6) echo "new dependency toml" ;;
    8) echo "first lockfile again" ;; *) echo "edit" ;; esac
}

lines="$work/lines.json"
: > "$lines"
for run in 1 2 3 4 5 6 7 8; do
  event "$run"
  lock=$(sha256sum "$src/Cargo.lock" | cut -c1-12)
  key="svc-$lock-run$run"
  echo ">> run $run ($(describe "$run")): $key" >&2
  # The tarball way's restore, timed, then the layered one's into a fresh target.
  rm -rf "$CARGO_TARGET_DIR"
  start=$(now); tar_restore "$key" "svc-$lock-" "svc-"; tar_seconds=$(seconds "$start")
  rm -rf "$CARGO_TARGET_DIR" "$work/cache"
  start=$(now)
  "$ci" restore --store "file://$stores/layered" --cache "$work/cache" --target-dir "$CARGO_TARGET_DIR" \
    "$key" --restore-key "svc-$lock-" --restore-key "svc-" 2> "$work/restore.log" || { cat "$work/restore.log"; exit 1; }
  layered_seconds=$(seconds "$start")
  (cd "$src" && cargo build --message-format=json 2> /dev/null) > "$work/build.json"
  units=$(grep -c '"fresh":false' "$work/build.json" || true)
  start=$(now)
  "$ci" save --store "file://$stores/layered" --cache "$work/cache" --target-dir "$CARGO_TARGET_DIR" "$key" \
    2> "$work/save.log" || { cat "$work/save.log"; exit 1; }
  layered_save_seconds=$(seconds "$start")
  layered_store_before=${layered_store:-0}
  layered_store=$(bytes_of "$stores/layered")
  start=$(now); tar_uploaded=$(tar_save "$key"); tar_save_seconds=$(seconds "$start")
  printf '{"run":%s,"event":"%s","units":%s,"tarball":{"restore_s":%s,"save_s":%s,"uploaded":%s,"store":%s},"layered":{"restore_s":%s,"save_s":%s,"uploaded":%s,"store":%s,"said":%s}}\n' \
    "$run" "$(describe "$run")" "$units" "$tar_seconds" "$tar_save_seconds" "$tar_uploaded" "$(bytes_of "$stores/tarball")" \
    "$layered_seconds" "$layered_save_seconds" "$((layered_store - layered_store_before))" "$layered_store" \
    "$(python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))' < "$work/save.log")" >> "$lines"
done
mkdir -p "$results"
python3 "$root/benches/ci-cache-table.py" "$lines" "$results/ci-cache-service"
cat "$results/ci-cache-service.md"
