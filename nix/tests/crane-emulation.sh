# A crane use-zstd derivation as crane runs it, without crane: deps-only
# installs target/ with crane's tar | zstd command; inherit extracts
# cargoArtifacts' target.tar.zst with crane's zstd -d | tar -x, builds, and
# fails if any dependency compiled.
set -euo pipefail
export HOME="$NIX_BUILD_TOP/home" CARGO_HOME="$NIX_BUILD_TOP/.cargo-home"
mkdir -p "$HOME" "$CARGO_HOME"
printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "%s"\n' "$cargoVendorDir" > "$CARGO_HOME/config.toml"
cp -r --preserve=timestamps "$src" "$NIX_BUILD_TOP/source"
chmod -R u+w "$NIX_BUILD_TOP/source"
cd "$NIX_BUILD_TOP/source"
mkdir -p "$out"
case "$mode" in
  deps)
    cargo check --locked --offline --all-targets
    cargo build --locked --offline
    cargo test --locked --offline --no-run
    tar --sort=name --mtime=@1 --owner=0 --group=0 --mode=u+w --numeric-owner -c target |
      zstd -q "-T${NIX_BUILD_CORES:-0}" -o "$out/target.tar.zst"
    ;;
  inherit)
    mkdir -p target
    zstd -d -q "$cargoArtifacts/target.tar.zst" --stdout | tar -x -C target --strip-components=1
    cargo build --locked --offline --message-format=json-render-diagnostics > "$NIX_BUILD_TOP/cargo.json"
    "$cargoInherit/bin/cargo-inherit" rebuilt --log "$NIX_BUILD_TOP/cargo.json" --json --deny-deps > "$out/rebuilt.json"
    mkdir -p "$out/bin" && cp target/debug/app "$out/bin/"
    ;;
esac
