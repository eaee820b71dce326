# After cargo: the profile's binaries into $out, the target packed into a
# layer on what was inherited, and the derivation's report: in the build
# log with the seconds each step took, beside the layer without them.
# Nothing else goes into $out: two packages must install into one profile,
# and an output must be the same in every build of it (nix-build --check).

# Where the layer goes: the derivation's `layer` output when it has one
# (nix/lib's derivations), else $out (crane's).
cargoInheritLayerHome() { echo "${layer:-$out}"; }

# The target (and a separate build directory) packed on what was inherited:
# HOME/layer and HOME/build-layer.
cargoInheritPack() { # HOME
  local common=()
  # A skeleton's members are dummies; otherwise record the members'
  # sources (crane's dummy sources included: they differ from the real ones).
  if [ "$cargoInheritSkeleton" = 1 ]; then
    common+=(--skeleton "$(cargoInheritSourceDir)")
  else
    common+=(--workspace "$(cargoInheritSourceDir)")
    if [ -f "$(cargoInheritSourcesFile)" ]; then common+=(--sources "$(cargoInheritSourcesFile)"); fi
  fi
  if [ "$cargoInheritStrategy" = symlink ]; then common+=(--format plain)
  else common+=(--level "$cargoInheritPackLevel"); fi
  if [ "$cargoInheritPruneUnused" = 1 ] && [ -f "$(cargoInheritJsonLog)" ]; then
    common+=(--prune-unused "$(cargoInheritJsonLog)")
  fi
  # The binaries just installed into $out are in the target too: the layer
  # reads them from $out (which nothing changes after this builder).
  if [ "$cargoInheritBorrowOut" = 1 ] && [ "$1" != "$out" ] && [ "$cargoInheritStrategy" = layered ]; then
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
  if [ "$cargoInheritInstallBins" = 1 ]; then cargoInheritInstallBins; fi
  local beside=()
  if [ "$cargoInheritPackLayer" = 1 ]; then
    cargoInheritPack "$home"
    if [ "$cargoInheritExportCrane" = 1 ]; then cargoInheritTool export --from "$home/layer" --out "$home"; fi
    if [ -f "$(cargoInheritExplainFile)" ]; then cp "$(cargoInheritExplainFile)" "$home/cargo-inherit-explain.txt"; fi
    cargoInheritRecordHack "$home"
    beside=(--out "$home/cargo-inherit-report.json")
  fi
  local report
  report=$(cargoInheritTool report --name "${name:-?}" --inherit-seconds "${cargoInheritInheritSeconds:-0}" \
    --cargo-seconds "${cargoInheritCargoSeconds:-0}" --install-seconds "$(cargoInheritSince "$start")" \
    --layer "$home/layer" --layer "$home/build-layer" --rebuilt "$(cargoInheritRebuiltFile)" \
    --cargo-log "$(cargoInheritJsonLog)" "${beside[@]}")
  echo "cargo-inherit: report $report" >&2
}

# The executables and C-facing libraries this derivation's cargo run
# reported, into $out/bin and $out/lib as crane installs them: not every
# executable in the profile directory, where a `-p svc-a` build also finds
# the other members' dummies from the deps build.
cargoInheritInstallBins() {
  mkdir -p "$out/bin"
  local files place path
  files=$(cargoInheritTool installables --cargo-log "$(cargoInheritJsonLog)") || return
  while IFS=$'\t' read -r place path; do
    if [ -n "$place" ]; then mkdir -p "$out/$place" && cp "$path" "$out/$place/"; fi
  done <<< "$files"
  cargoInheritForgetVendor "$out"
}
