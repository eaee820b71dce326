# Sourced by nix/run.sh and nix/tests/run-all.sh: the options of every
# sandboxed build here. No substituters (no network to a cache), the host's
# Rust toolchain at /rust with the host tools beside it, and evaluation
# without import from derivation, as Hydra and flake checks run it.
nix_sandbox=(--option sandbox true --option substituters '' --option allow-import-from-derivation false
  --option sandbox-paths "/rust=$(rustc --print sysroot) /bin /usr /lib /lib64 /etc/alternatives /etc/passwd")
