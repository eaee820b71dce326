# cargo: its environment in every derivation of a chain, running it (the
# standalone builder; crane runs it itself, watched), and what it rebuilt
# and why.

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

# Each of cargoCommands with cargoExtraArgs (in a deps build also for the
# other selections it prepares); then what it rebuilt.
cargoInheritRunCargo() {
  local start; start=$(cargoInheritNow)
  local commands command
  : > "$(cargoInheritJsonLog)"
  : > "$(cargoInheritFingerprintLog)"
  IFS=';' read -ra commands <<< "$cargoCommands"
  for command in "${commands[@]}"; do cargoInheritCargo "$command" || return; done
  if [ "$cargoInheritSkeleton" = 1 ]; then
    mapfile -t commands < <(cargoInheritSelectionCommands "$cargoCommands" "$cargoExtraArgs")
    for command in "${commands[@]}"; do cargoInheritCargo "$command" || return; done
  fi
  cargoInheritCargoSeconds=$(cargoInheritSince "$start")
  cargoInheritCheckRebuilt "$(cargoInheritJsonLog)" "$(cargoInheritFingerprintLog)"
}

# One cargo COMMAND with cargoExtraArgs: its JSON messages into the JSON
# log, its fingerprint log into that log, the rest into the build log.
cargoInheritCargo() { # COMMAND
  local command="$1" setting
  setting=$(cargoInheritFingerprintSetting)
  echo "cargo-inherit: cargo $command $cargoExtraArgs" >&2
  # cargo's messages as JSON on stdout; cargo-nextest takes the flag under its own name.
  local format=--message-format=json-render-diagnostics
  case "$command" in nextest*) format=--cargo-message-format=json-render-diagnostics ;; esac
  # stdout: cargo's JSON messages go to the log; a test harness's output
  # (results, failed assertions) to the build log as well, as it comes.
  local stdout="$NIX_BUILD_TOP/cargo-stdout" splitter status=0
  rm -f "$stdout" && mkfifo "$stdout"
  cargoInheritTool split-stdout --log "$(cargoInheritJsonLog)" < "$stdout" &
  splitter=$!
  # stderr: cargo's fingerprint log says why a unit was not fresh: kept
  # for `explain`, left out of the build log.
  # shellcheck disable=SC2086 # commands and extra args are word lists
  CARGO_LOG="$setting" RUST_LIB_BACKTRACE=0 \
    cargo $command --locked "$format" $cargoExtraArgs 2>&1 > "$stdout" \
    | tee -a "$(cargoInheritFingerprintLog)" | cargoInheritTool filter-log >&2 || status=$?
  wait "$splitter" || status=$?
  return "$status"
}

# The commands a deps build runs besides COMMANDS (';'-separated, each run
# with EXTRA_ARGS), one a line, so that later derivations selecting part of
# the workspace find their dependencies' units: COMMANDS again with `-p
# MEMBER` for each member whose own feature resolution differs from the
# workspace's (cargoInheritFanOut=1, `cargo-inherit fan-out`), and for
# each selection of cargoInheritSelections (';'-separated: "-p a -p b;--bin x").
cargoInheritSelectionCommands() { # COMMANDS EXTRA_ARGS
  local commands command selections selection
  IFS=';' read -ra commands <<< "$1"
  if [ "$cargoInheritFanOut" = 1 ]; then
    # shellcheck disable=SC2086 # extra args are a word list
    cargoInheritTool fan-out --workspace "$(cargoInheritSourceDir)" --commands "$1" -- $2
  fi
  IFS=';' read -ra selections <<< "$cargoInheritSelections"
  for selection in "${selections[@]}"; do
    [ -n "${selection// /}" ] || continue
    for command in "${commands[@]}"; do echo "$command $selection"; done
  done
}

# Reports the units cargo compiled; when artifacts were inherited and a
# dependency compiled anyway, `explain` says why (and fails with denyDeps).
cargoInheritCheckRebuilt() { # CARGO_JSON_LOG FINGERPRINT_LOG
  local rebuilt inherited=()
  rebuilt=$(cargoInheritRebuiltFile)
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
# log and the explain file (installed with the report); fails with
# cargoInheritDenyDeps=1 when any did.
cargoInheritExplain() { # FINGERPRINT_LOG
  local flags=() status=0 explained
  explained=$(cargoInheritExplainFile)
  if [ "$cargoInheritDenyDeps" = 1 ]; then flags+=(--deny); fi
  if [ "$cargoInheritStableVendor" = 1 ]; then flags+=(--fixed-vendor); fi
  # What the build selects (-p, --bin): ours, or crane's commands in its phases.
  flags+=(--cargo-args-of-log "$cargoCommands $cargoExtraArgs ${buildPhase:-} ${checkPhase:-}")
  cargoInheritTool explain --log "$1" --workspace "$(cargoInheritSourceDir)" "${flags[@]}" \
    > "$explained" || status=$?
  cat "$explained" >&2
  return "$status"
}

# For builders that run cargo themselves (crane's, through stdenv): from
# here on the build's stderr also goes to the fingerprint log, and cargo
# writes its fingerprint decisions there (kept out of the build log), so
# that `explain` can say why a dependency compiled.
cargoInheritWatchCargo() {
  [ -n "${cargoInheritArtifacts:-}" ] || return 0
  cargoInheritFingerprints=$(cargoInheritFingerprintLog)
  : > "$cargoInheritFingerprints"
  CARGO_LOG=$(cargoInheritFingerprintSetting)
  export CARGO_LOG
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
