# cargo-inherit setup hooks: plain bash functions, sourced by the standalone
# builder (builder.sh) and wrapped by makeSetupHook for nixpkgs (crane.nix).
#
# Environment they read:
#   cargoInherit            store path holding bin/cargo-inherit and bin/cargo-inherit-rustc
#   src                     the workspace sources
#   cargoVendorDir          vendored crates (`cargo vendor` output); unset when the
#                           builder configures vendoring itself (crane)
#   cargoInheritArtifacts   optional: what to inherit: an earlier cargo-inherit derivation (holding
#                           layer/) or a crane output (target.tar.zst chain, or target/)
#   cargoInheritStrategy    layered (pack/unpack, default) or symlink (pack --format plain/link)
#   cargoCommands           cargo commands separated by ';', e.g. "check;build;test --no-run"
#   cargoExtraArgs          arguments for every command, e.g. --release
#   cargoInheritSkeleton    1: src is a skeleton (`cargo-inherit skeleton`): record its units as dummies
#   cargoInheritDenyDeps    1: fail when a dependency compiles although artifacts were inherited
#                           (either way, `cargo-inherit explain` says why in the log and in
#                           $out/cargo-inherit-explain.txt)
#   cargoInheritPackLayer   0: install no layer into $out/layer (default 1)
#   cargoInheritPackLevel   zstd level of the layer (default 1; on the bench's 294-crate target
#                           level 9 stored 15% fewer bytes for 6x the CPU: for binary caches)
#   cargoInheritInstallBins 1: copy the profile's executables into $out/bin, its static and
#                           dynamic libraries (staticlib, cdylib, dylib) into $out/lib
#   cargoInheritExportCrane 1: also write $out/target.tar.zst, for crane derivations to inherit

cargoInheritNow() { date +%s.%N; }
cargoInheritSince() { awk -v a="$1" -v b="$(cargoInheritNow)" 'BEGIN { printf "%.2f", b - a }'; }
cargoInheritTool() { "$cargoInherit/bin/cargo-inherit" "$@"; }

# Cargo's config for vendored crates, offline: the one place it is written
# (the skeleton, cargo-inherit's own build and crane's emulation use it too).
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

cargoInheritConfigure() {
  # The same paths in every derivation: fingerprints hold absolute paths.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NIX_BUILD_TOP/source/target}"
  if [ -n "${cargoVendorDir:-}" ]; then
    export HOME="$NIX_BUILD_TOP/home"
    export CARGO_HOME="$NIX_BUILD_TOP/.cargo-home"
    mkdir -p "$HOME" "$CARGO_HOME"
    cargoInheritVendorConfig "$cargoVendorDir" "$CARGO_HOME/config.toml"
  fi
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
  # Sources keep the store's mtime 1, like the artifacts they meet.
  cp -r --preserve=timestamps "$src" "$dest"
  chmod -R u+w "$dest"
  cd "$dest"
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
  # --workspace: members edited since those artifacts (or built from dummy
  # sources, for crane's) are rebuilt, though their sources have the store's
  # mtime 1 like everything else.
  cargoInheritTool "$verb" --from "$cargoInheritArtifacts" --target-dir "$CARGO_TARGET_DIR" --workspace .
  cargoInheritInheritSeconds=$(cargoInheritSince "$start")
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
  local deny=()
  if [ "${cargoInheritDenyDeps:-0}" = 1 ]; then deny=(--deny); fi
  cargoInheritTool explain --log "$2" --workspace . "${deny[@]}" > "$NIX_BUILD_TOP/explain.txt" \
    || { cat "$NIX_BUILD_TOP/explain.txt" >&2; return 1; }
  cat "$NIX_BUILD_TOP/explain.txt" >&2
}

cargoInheritInstall() {
  local start; start=$(cargoInheritNow)
  mkdir -p "$out"
  if [ "${cargoInheritPackLayer:-1}" = 1 ]; then
    local args=(--target-dir "$CARGO_TARGET_DIR" --out "$out/layer")
    # A layer reads what a crane output holds from it (either mode); a plain
    # tree links only into another tree (pack passes the others over).
    if [ -n "${cargoInheritArtifacts:-}" ]; then args+=(--parent "$cargoInheritArtifacts"); fi
    # A skeleton's members are dummies; otherwise record the members'
    # sources (crane's dummy sources included: they differ from the real ones).
    if [ "${cargoInheritSkeleton:-0}" = 1 ]; then
      args+=(--skeleton "$(cargoInheritSourceDir)")
    else
      args+=(--workspace "$(cargoInheritSourceDir)")
    fi
    if [ "${cargoInheritStrategy:-layered}" = symlink ]; then args+=(--format plain)
    else args+=(--level "${cargoInheritPackLevel:-1}"); fi
    cargoInheritTool pack "${args[@]}"
    if [ "${cargoInheritExportCrane:-0}" = 1 ]; then cargoInheritTool export --from "$out/layer" --out "$out"; fi
  fi
  if [ "${cargoInheritInstallBins:-0}" = 1 ]; then
    local profile=debug
    case " ${cargoExtraArgs:-} " in *" --release "*) profile=release ;; esac
    mkdir -p "$out/bin"
    # Executables into bin/ (proc-macros and cdylibs are executable .so
    # files: not those); static and dynamic libraries into lib/, as crane.
    find "$CARGO_TARGET_DIR/$profile" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.dylib' \
      -exec cp {} "$out/bin/" \;
    local libs; libs=$(find "$CARGO_TARGET_DIR/$profile" -maxdepth 1 -type f \( -name '*.a' -o -name '*.so' -o -name '*.dylib' \))
    if [ -n "$libs" ]; then mkdir -p "$out/lib" && echo "$libs" | xargs -d '\n' cp -t "$out/lib/"; fi
  fi
  if [ -f "$NIX_BUILD_TOP/explain.txt" ]; then cp "$NIX_BUILD_TOP/explain.txt" "$out/cargo-inherit-explain.txt"; fi
  cargoInheritTool report --name "${name:-?}" --inherit-seconds "${cargoInheritInheritSeconds:-0}" \
    --cargo-seconds "${cargoInheritCargoSeconds:-0}" --install-seconds "$(cargoInheritSince "$start")" \
    --layer "$out/layer" --rebuilt "$NIX_BUILD_TOP/rebuilt.json" --cargo-log "$NIX_BUILD_TOP/cargo.json" \
    > "$out/cargo-inherit-report.json"
}
