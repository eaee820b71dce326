#!/usr/bin/env bash
# Every test of the project, as CI runs it (.ci/run calls exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."

# setpriv (util-linux) lets the tests drop root's write override; cargo
# vendor needs crates.io or the local registry cache.
command -v setpriv >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux; }

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Real sandboxed Nix builds of every fixture's chain (installs Nix if missing).
bash nix/tests/run-all.sh
