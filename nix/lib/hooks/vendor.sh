# Vendored crates. cargo's fingerprints hold source paths: at one fixed
# path, $NIX_BUILD_TOP/vendor/NAME-VERSION, they depend on crate versions
# and not on the vendor directory's store path (that is, not on the
# lockfile). The wrapper keeps the store path out of debug info, and
# cargoInheritForgetVendor out of what C compilers recorded.

# Cargo's config for vendored crates, offline: the one place it is written
# (cargo-inherit's own build and crane's emulation use it too).
cargoInheritVendorConfig() { # VENDOR_DIR CONFIG_FILE
  cat > "$2" <<CONFIG
[source.crates-io]
replace-with = "vendored"
[source.vendored]
directory = "$1"
[net]
offline = true
CONFIG
}

# The vendored crates at FIXED_DIR (default $NIX_BUILD_TOP/vendor), each a
# symlink into the vendor directory. Prints the fixed directory.
cargoInheritStableVendor() { # VENDOR_DIR [FIXED_DIR]
  local fixed="${2:-$NIX_BUILD_TOP/vendor}" crate
  mkdir -p "$fixed"
  for crate in "$1"/*/; do ln -sfn "${crate%/}" "$fixed/$(basename "$crate")"; done
  echo "$fixed"
}

# The standalone builder's cargo home: vendored crates, offline. Not for
# crane, which vendors (and sets cargoVendorDir, in its own layout) itself.
cargoInheritConfigureVendor() {
  export HOME="$NIX_BUILD_TOP/home"
  export CARGO_HOME="$NIX_BUILD_TOP/.cargo-home"
  mkdir -p "$HOME" "$CARGO_HOME"
  local vendor="$cargoVendorDir"
  if [ "$cargoInheritStableVendor" = 1 ]; then vendor=$(cargoInheritStableVendor "$vendor"); fi
  cargoInheritVendorConfig "$vendor" "$CARGO_HOME/config.toml"
}

# crane writes its own vendoring config, naming each source's vendored
# crates by store path: each such directory is replaced by fixed links at
# $NIX_BUILD_TOP/vendor/SOURCE_NAME (crane's source names hash the registry
# URL, not the lockfile), as cargoInheritStableVendor does for ours.
cargoInheritStableCraneVendor() {
  local config="${CARGO_HOME:-}/config.toml" line section="" fixed
  [ "$cargoInheritStableVendor" = 1 ] && [ -f "$config" ] || return 0
  local store="${NIX_STORE:-/nix/store}" stable="$config.cargo-inherit"
  : > "$stable"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^\[source\.\"?([^]\"]+)\"?\] ]]; then section="${BASH_REMATCH[1]}"; fi
    if [[ "$line" =~ ^directory\ *=\ *\"($store/[^\"]+)\" ]]; then
      fixed=$(cargoInheritStableVendor "${BASH_REMATCH[1]}" "$NIX_BUILD_TOP/vendor/${section//[^A-Za-z0-9_.-]/_}")
      line="directory = \"$fixed\""
    fi
    printf '%s\n' "$line" >> "$stable"
  done < "$config"
  mv "$stable" "$config"
}

# What was installed under DIR keeps no reference to the vendored sources,
# as crane's installs: C code built by build scripts (cc) records the
# physical directory it was compiled in, the store path behind the fixed
# vendor links. Its hash is overwritten in place, same length, so offsets
# hold and Nix no longer sees the reference.
cargoInheritForgetVendor() { # DIR
  local vendor hash
  vendor=$(readlink -f "${cargoVendorDir:-}") || return 0
  case "$vendor" in "${NIX_STORE:-/nix/store}"/*) ;; *) return 0 ;; esac
  hash=$(basename "$vendor" | cut -c1-32)
  { grep -rlF --null "$hash" "$1" || true; } | xargs -0r sed -i "s|$hash|eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee|g"
}
