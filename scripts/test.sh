#!/usr/bin/env bash
# Every test of the project, as CI runs it (.ci/run calls exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."

# setpriv (util-linux) lets the tests drop root's write override; rsync
# runs crane's own inherit of a use-symlink output, to compare with ours;
# cargo vendor needs crates.io or the local registry cache.
missing=()
command -v setpriv > /dev/null || missing+=(util-linux)
command -v rsync > /dev/null || missing+=(rsync)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null; fi

cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# Files under 400 lines before their tests, functions under 60 (issue 26).
python3 scripts/shape.py
# tests/store.rs runs against a real S3-compatible server too.
# shellcheck source=../tests/seaweedfs.sh
source tests/seaweedfs.sh
seaweedfs_start "$(mktemp -d)"
trap seaweedfs_stop EXIT
cargo test --workspace --locked
seaweedfs_stop
# Each cargo-fuzz target briefly, from the seed corpus (installs cargo-fuzz).
bash scripts/fuzz.sh 20
# Real sandboxed Nix builds of every fixture's chain (installs Nix if missing).
bash nix/tests/run-all.sh
