# cargo-inherit setup hooks: plain bash functions, sourced by the standalone
# builder (builder.sh) and wrapped by makeSetupHook for nixpkgs (crane.nix).
#
# Environment they read:
#   cargoInherit            store path holding bin/cargo-inherit and bin/cargo-inherit-rustc
#   src                     the workspace sources
#   cargoVendorDir          vendored crates (`cargo vendor` output), for cargoInheritConfigureVendor
#                           (the standalone builder; crane configures its own)
#   cargoInheritArtifacts   optional: what to inherit: an earlier cargo-inherit derivation (holding
#                           layer/) or a crane output (target.tar.zst chain, or target/); several
#                           separated by spaces, the first winning where two hold one path
#   cargoInheritStrategy    layered (pack/unpack, default) or symlink (pack --format plain/link)
#   cargoCommands           cargo commands separated by ';', e.g. "check;build;test --no-run"
#   cargoExtraArgs          arguments for every command, e.g. --release
#   cargoInheritSkeleton    1: the source is a skeleton (`cargo-inherit skeleton`): record its units
#                           as dummies
#   cargoInheritSkeletonFileNames  a file listing the names of src's .rs files: src holds
#                           manifests and config only (nix/lib's depsSource), the skeleton is
#                           made from both; cargoInheritSkeletonKeep: paths to keep, one a line
#   cargoInheritDenyDeps    1: fail when a dependency compiles although artifacts were inherited
#                           (either way, `cargo-inherit explain` says why in the log and in
#                           $out/cargo-inherit-explain.txt)
#   cargoInheritPackLayer   0: install no layer (default 1: into $layer/layer, the derivation's
#                           `layer` output, or $out/layer when it has none)
#   cargoInheritPruneUnused 1: leave out of the layer the dependencies' units cargo's runs here
#                           did not use (pack --prune-unused; nix/lib's deps derivations)
#   cargoInheritPackLevel   zstd level of the layer (default auto: pack chooses by how much the
#                           layer stores, see `cargo-inherit pack --help`)
#   cargoInheritInstallBins 1: copy the profile's executables into $out/bin, its static and
#                           dynamic libraries (staticlib, cdylib, dylib) into $out/lib
#   cargoInheritExportCrane 1: also write target.tar.zst beside the layer, for crane derivations
#   cargoInheritBorrowOut   1: the layer reads what $out holds (installed binaries) from there
#                           instead of storing it (pack --borrow; nix/lib's builder, where no
#                           fixup changes $out after the install hook)
#   cargoInheritStableVendor 0: cargo reads the vendored crates at their store path (default 1:
#                           through links at $NIX_BUILD_TOP/vendor, see cargoInheritStableVendor
#                           and, for crane's config, cargoInheritStableCraneVendor)

cargoInheritNow() { date +%s.%N; }
cargoInheritSince() { awk -v a="$1" -v b="$(cargoInheritNow)" 'BEGIN { printf "%.2f", b - a }'; }
cargoInheritTool() { "$cargoInherit/bin/cargo-inherit" "$@"; }

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

# The vendored crates at one fixed path, $NIX_BUILD_TOP/vendor/NAME-VERSION,
# each a symlink into the vendor directory: cargo's fingerprints hold source
# paths, which then depend on crate versions and not on the vendor
# directory's store path (that is, not on the lockfile). The wrapper keeps
# the store path out of debug info. Prints the fixed directory.
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
  if [ "${cargoInheritStableVendor:-1}" = 1 ]; then vendor=$(cargoInheritStableVendor "$vendor"); fi
  cargoInheritVendorConfig "$vendor" "$CARGO_HOME/config.toml"
}

# crane writes its own vendoring config, naming each source's vendored
# crates by store path: each such directory is replaced by fixed links at
# $NIX_BUILD_TOP/vendor/SOURCE_NAME (crane's source names hash the registry
# URL, not the lockfile), as cargoInheritStableVendor does for ours.
cargoInheritStableCraneVendor() {
  local config="${CARGO_HOME:-}/config.toml" line section="" fixed
  [ "${cargoInheritStableVendor:-1}" = 1 ] && [ -f "$config" ] || return 0
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

cargoInheritConfigure() {
  # The same paths in every derivation: fingerprints hold absolute paths.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NIX_BUILD_TOP/source/target}"
  # Every layer of a chain uses the wrapper: build scripts see RUSTC_WRAPPER
  # and some rerun when it changes.
  export RUSTC_WRAPPER="$cargoInherit/bin/cargo-inherit-rustc"
  if [ "${NIX_BUILD_CORES:-0}" -gt 0 ]; then export CARGO_BUILD_JOBS="$NIX_BUILD_CORES"; fi
  # Incremental caches would be stored in every layer and are of no use to
  # a derivation that builds once.
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
}

cargoInheritPrepareSource() {
  local dest="$NIX_BUILD_TOP/source"
  if [ -n "${cargoInheritSkeletonFileNames:-}" ]; then
    cargoInheritMakeSkeleton "$dest"
  else
    # Sources keep the store's mtime 1, like the artifacts they meet.
    cp -r --preserve=timestamps "$src" "$dest"
    chmod -R u+w "$dest"
  fi
  cd "$dest"
}

# The skeleton of $src (nix/lib's depsSource: manifests and the like, and
# the file names in $cargoInheritSkeletonFileNames) at DEST, with the
# store's mtime 1 like every other source. Needs the vendored crates'
# config (cargoInheritConfigure): cargo metadata resolves the workspace.
cargoInheritMakeSkeleton() { # DEST
  local keep=() path
  while IFS= read -r path; do
    if [ -n "$path" ]; then keep+=(--keep "$path"); fi
  done <<< "${cargoInheritSkeletonKeep:-}"
  cargoInheritTool skeleton "$src" "$1" --file-names "$cargoInheritSkeletonFileNames" "${keep[@]}"
  find "$1" -exec touch -h -d @1 {} +
}

# The workspace being built: where the inherit and install hooks run.
cargoInheritSourceDir() { echo "${cargoInheritSource:-$PWD}"; }

cargoInheritInherit() {
  cargoInheritInheritSeconds=0
  [ -n "${cargoInheritArtifacts:-}" ] || return 0
  cargoInheritSource="$PWD"
  local start verb; start=$(cargoInheritNow)
  case "${cargoInheritStrategy:-layered}" in
    layered) verb=unpack ;;
    # link unpacks what holds no tree to link to (a layer, crane's archives).
    symlink) verb=link ;;
    *) echo "cargo-inherit: unknown cargoInheritStrategy '$cargoInheritStrategy'" >&2; return 1 ;;
  esac
  cargoInheritFindBuildDir
  # Several artifacts (cargoArtifacts a list: two projects' deps, a shared
  # base) are laid out one over the other, the first last: where two hold
  # the same path, the first one's is kept. --workspace: members edited
  # since those artifacts (or built from dummy sources, for crane's) are
  # rebuilt, though their sources have the store's mtime 1 like everything else.
  local all i
  read -ra all <<< "$cargoInheritArtifacts"
  for (( i = ${#all[@]} - 1; i >= 0; i-- )); do
    cargoInheritTool "$verb" --from "${all[i]}" --target-dir "$CARGO_TARGET_DIR" --workspace .
    [ -e "${all[i]}/build-layer" ] || continue
    if [ -z "$cargoInheritBuildDir" ]; then
      echo "cargo-inherit: ${all[i]} was built with cargo's build-dir apart from target/ (it holds build-layer/), this build has none: set the same build.build-dir (or CARGO_BUILD_BUILD_DIR) in every derivation of the chain" >&2
      return 1
    fi
    cargoInheritTool "$verb" --from "${all[i]}/build-layer" --target-dir "$cargoInheritBuildDir" --workspace .
  done
  cargoInheritInheritSeconds=$(cargoInheritSince "$start")
}

# cargo's build directory when build.build-dir (or CARGO_BUILD_BUILD_DIR)
# puts it apart from the target directory, else empty: cargo then keeps
# its intermediate artifacts there (deps/, build/, .fingerprint/) and only
# the final ones in target/. Inherited and packed as a layer of its own,
# build-layer/ beside layer/. Asked of cargo once.
cargoInheritFindBuildDir() {
  if [ -z "${cargoInheritBuildDir+set}" ]; then
    cargoInheritBuildDir=$(cargoInheritTool build-dir --workspace "$(cargoInheritSourceDir)")
  fi
}

cargoInheritRunCargo() {
  local start; start=$(cargoInheritNow)
  local log="$NIX_BUILD_TOP/cargo.json" fingerprints="$NIX_BUILD_TOP/cargo-fingerprint.log" commands command
  : > "$log"
  : > "$fingerprints"
  IFS=';' read -ra commands <<< "${cargoCommands:-build}"
  for command in "${commands[@]}"; do
    echo "cargo-inherit: cargo $command ${cargoExtraArgs:-}" >&2
    # stdout: cargo's JSON messages go to the log; a test harness's output
    # (results, failed assertions) to the build log as well, as it comes.
    local stdout="$NIX_BUILD_TOP/cargo-stdout" splitter status=0
    rm -f "$stdout" && mkfifo "$stdout"
    cargoInheritTool split-stdout --log "$log" < "$stdout" &
    splitter=$!
    # stderr: cargo's fingerprint log says why a unit was not fresh: kept
    # for `explain`, left out of the build log.
    # shellcheck disable=SC2086 # commands and extra args are word lists
    CARGO_LOG=cargo::core::compiler::fingerprint=info RUST_LIB_BACKTRACE=0 \
      cargo $command --locked --message-format=json-render-diagnostics ${cargoExtraArgs:-} 2>&1 > "$stdout" \
      | tee -a "$fingerprints" | cargoInheritTool filter-log >&2 || status=$?
    wait "$splitter" || status=$?
    [ "$status" = 0 ] || return "$status"
  done
  cargoInheritCargoSeconds=$(cargoInheritSince "$start")
  cargoInheritCheckRebuilt "$log" "$fingerprints"
}

# Reports the units cargo compiled; when artifacts were inherited and a
# dependency compiled anyway, `explain` says why (and fails with denyDeps).
cargoInheritCheckRebuilt() { # CARGO_JSON_LOG FINGERPRINT_LOG
  local rebuilt="$NIX_BUILD_TOP/rebuilt.json" inherited=()
  if [ -n "${cargoInheritArtifacts:-}" ]; then inherited=(--deny-deps); fi
  # rebuilt prints its report before its verdict: no report means it failed.
  if cargoInheritTool rebuilt --log "$1" --workspace . --json "${inherited[@]}" > "$rebuilt" 2> "$rebuilt.err"; then
    cat "$rebuilt" >&2
    return 0
  fi
  [ -s "$rebuilt" ] || { cat "$rebuilt.err" >&2; return 1; }
  cat "$rebuilt" >&2
  cargoInheritExplain "$2"
}

# Why dependencies compiled, from cargo's fingerprint log, into the build
# log and $NIX_BUILD_TOP/explain.txt (installed with the report); fails
# with cargoInheritDenyDeps=1 when any did.
cargoInheritExplain() { # FINGERPRINT_LOG
  local deny=() status=0
  if [ "${cargoInheritDenyDeps:-0}" = 1 ]; then deny=(--deny); fi
  cargoInheritTool explain --log "$1" --workspace "$(cargoInheritSourceDir)" "${deny[@]}" \
    > "$NIX_BUILD_TOP/explain.txt" || status=$?
  cat "$NIX_BUILD_TOP/explain.txt" >&2
  return "$status"
}

# For builders that run cargo themselves (crane's, through stdenv): from
# here on the build's stderr also goes to a fingerprint log, and cargo
# writes its fingerprint decisions there (kept out of the build log), so
# that `explain` can say why a dependency compiled.
cargoInheritWatchCargo() {
  [ -n "${cargoInheritArtifacts:-}" ] || return 0
  cargoInheritFingerprints="$NIX_BUILD_TOP/cargo-fingerprint.log"
  : > "$cargoInheritFingerprints"
  export CARGO_LOG=cargo::core::compiler::fingerprint=info
  exec {cargoInheritStderr}>&2
  exec 2> >(tee -a "$cargoInheritFingerprints" | cargoInheritTool filter-log >&"$cargoInheritStderr")
  cargoInheritWatcher=$!
}

# Ends cargoInheritWatchCargo and explains what it saw.
cargoInheritExplainWatched() {
  [ -n "${cargoInheritWatcher:-}" ] || return 0
  exec 2>&"$cargoInheritStderr" {cargoInheritStderr}>&-
  wait "$cargoInheritWatcher" || true
  unset CARGO_LOG cargoInheritWatcher
  cargoInheritExplain "$cargoInheritFingerprints"
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

# Where the layer goes: the derivation's `layer` output when it has one
# (nix/lib's derivations), else $out (crane's).
cargoInheritLayerHome() { echo "${layer:-$out}"; }

# The target (and a separate build directory) packed on what was inherited:
# HOME/layer and HOME/build-layer.
cargoInheritPack() { # HOME
  local common=()
  # A skeleton's members are dummies; otherwise record the members'
  # sources (crane's dummy sources included: they differ from the real ones).
  if [ "${cargoInheritSkeleton:-0}" = 1 ]; then
    common+=(--skeleton "$(cargoInheritSourceDir)")
  else
    common+=(--workspace "$(cargoInheritSourceDir)")
  fi
  if [ "${cargoInheritStrategy:-layered}" = symlink ]; then common+=(--format plain)
  else common+=(--level "${cargoInheritPackLevel:-auto}"); fi
  if [ "${cargoInheritPruneUnused:-0}" = 1 ] && [ -f "$NIX_BUILD_TOP/cargo.json" ]; then
    common+=(--prune-unused "$NIX_BUILD_TOP/cargo.json")
  fi
  # The binaries just installed into $out are in the target too: the layer
  # reads them from $out (which nothing changes after this builder).
  if [ "${cargoInheritBorrowOut:-0}" = 1 ] && [ "$1" != "$out" ] && [ "${cargoInheritStrategy:-layered}" = layered ]; then
    common+=(--borrow "$out")
  fi
  # A layer reads what a crane output holds from it (either mode); a plain
  # tree links only into another tree (pack passes the others over).
  local parents=() build_parents=() artifacts
  for artifacts in ${cargoInheritArtifacts:-}; do
    parents+=(--parent "$artifacts")
    if [ -e "$artifacts/build-layer" ]; then build_parents+=(--parent "$artifacts/build-layer"); fi
  done
  cargoInheritFindBuildDir
  if [ -n "$cargoInheritBuildDir" ]; then
    cargoInheritTool pack --target-dir "$cargoInheritBuildDir" --out "$1/build-layer" "${build_parents[@]}" "${common[@]}"
    # target/'s final artifacts are copies of the build directory's: stored once.
    parents+=(--parent "$1/build-layer")
  fi
  cargoInheritTool pack --target-dir "$CARGO_TARGET_DIR" --out "$1/layer" "${parents[@]}" "${common[@]}"
}

cargoInheritInstall() {
  local start; start=$(cargoInheritNow)
  local home; home=$(cargoInheritLayerHome)
  mkdir -p "$out" "$home"
  if [ "${cargoInheritInstallBins:-0}" = 1 ]; then cargoInheritInstallBins; fi
  if [ "${cargoInheritPackLayer:-1}" = 1 ]; then
    cargoInheritPack "$home"
    if [ "${cargoInheritExportCrane:-0}" = 1 ]; then cargoInheritTool export --from "$home/layer" --out "$home"; fi
  fi
  if [ -f "$NIX_BUILD_TOP/explain.txt" ]; then cp "$NIX_BUILD_TOP/explain.txt" "$out/cargo-inherit-explain.txt"; fi
  cargoInheritTool report --name "${name:-?}" --inherit-seconds "${cargoInheritInheritSeconds:-0}" \
    --cargo-seconds "${cargoInheritCargoSeconds:-0}" --install-seconds "$(cargoInheritSince "$start")" \
    --layer "$home/layer" --layer "$home/build-layer" --rebuilt "$NIX_BUILD_TOP/rebuilt.json" --cargo-log "$NIX_BUILD_TOP/cargo.json" \
    > "$out/cargo-inherit-report.json"
}

# The profile's executables into $out/bin, its static and dynamic libraries
# into $out/lib, as crane installs them.
cargoInheritInstallBins() {
  local profile=debug
  case " ${cargoExtraArgs:-} " in *" --release "*) profile=release ;; esac
  mkdir -p "$out/bin"
  # Executables into bin/ (proc-macros and cdylibs are executable .so
  # files: not those); static and dynamic libraries into lib/, as crane.
  find "$CARGO_TARGET_DIR/$profile" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.dylib' \
    -exec cp {} "$out/bin/" \;
  local libs; libs=$(find "$CARGO_TARGET_DIR/$profile" -maxdepth 1 -type f \( -name '*.a' -o -name '*.so' -o -name '*.dylib' \))
  if [ -n "$libs" ]; then mkdir -p "$out/lib" && echo "$libs" | xargs -d '\n' cp -t "$out/lib/"; fi
  cargoInheritForgetVendor "$out"
}
