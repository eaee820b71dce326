# Builds cargo-inherit itself from its vendored workspace with the host toolchain.
set -euo pipefail
# shellcheck source=hooks/vendor.sh
source "$cargoInheritVendorHooks"
export HOME="$NIX_BUILD_TOP/home" CARGO_HOME="$NIX_BUILD_TOP/.cargo-home"
mkdir -p "$HOME" "$CARGO_HOME"
cargoInheritVendorConfig "$cargoVendorDir" "$CARGO_HOME/config.toml"
cp -r "$src" source && chmod -R u+w source && cd source
# Without the object store client (`save`, `restore`, `gc`): no derivation
# talks to one, and it is most of the dependency graph.
cargo build --release --locked --offline --workspace --bins --no-default-features
mkdir -p "$out/bin"
cp target/release/cargo-inherit target/release/cargo-inherit-rustc "$out/bin/"
