#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS (default 20) each, from
# the seed corpus (fuzz/corpus, made by fuzz/seed.sh); a crash fails and
# leaves its input under fuzz/artifacts/ (turn it into a regression test).
# Installs cargo-fuzz when missing; needs the nightly toolchain.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
command -v cargo-fuzz > /dev/null || cargo install -q --locked cargo-fuzz
cargo +nightly fuzz build -O
log="$(mktemp)"
for target in $(cargo +nightly fuzz list); do
  grown="$(mktemp -d)"
  # -rss_limit_mb: a reader that asks for more memory than this is a bug too.
  status=0
  cargo +nightly fuzz run -O "$target" "$grown" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-1024}" > "$log" 2>&1 || status=$?
  rm -rf "$grown"
  grep -E '^(Done|==[0-9]+==|SUMMARY|artifact_prefix|Test unit|thread)' "$log" || true
  if [ "$status" -ne 0 ]; then echo "fuzz: $target failed (its input is under fuzz/artifacts/$target)"; exit 1; fi
  echo "fuzz: $target ran ${seconds}s without a crash"
done
