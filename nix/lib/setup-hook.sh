# Setup hook for nixpkgs' stdenv (crane.nix wraps it with makeSetupHook):
# the same functions as the standalone builder, registered in stdenv's
# phases. Cargo itself is run by the derivation (crane's buildPhase).
# shellcheck source=hooks/all.sh
source @hooks@/all.sh
export cargoInherit=@cargoInherit@

cargoInheritStdenvInherit() {
  cargoInheritConfigure
  cargoInheritRecordSources
  cargoInheritInherit
  cargoInheritWatchCargo
}

# After the last cargo run (crane's tests run in checkPhase): a deps build
# prepares its other selections, then say why any dependency compiled,
# then pack.
cargoInheritStdenvInstall() {
  cargoInheritCraneSelections
  cargoInheritExplainWatched
  cargoInheritInstall
}

# crane's deps commands (cargoInheritDepsCommands, one a line) again for the
# selections a deps build prepares (see cargoInheritSelectionCommands).
cargoInheritCraneSelections() {
  [ -n "${cargoInheritDepsCommands:-}" ] || return 0
  local lines line commands="" command
  mapfile -t lines <<< "$cargoInheritDepsCommands"
  for line in "${lines[@]}"; do
    if [ -n "${line// /}" ]; then commands="${commands:+$commands;}$line"; fi
  done
  mapfile -t lines < <(cargoInheritSelectionCommands "$commands" "")
  for command in "${lines[@]}"; do
    echo "cargo-inherit: $command" >&2
    eval "$command"
  done
}

# Unified features (cargoInheritUnifyFeatures): after crane's vendoring
# config, which cargo tree needs; the layer records the sources as cargo
# builds them, with the hack.
cargoInheritStdenvUnify() {
  [ "$cargoInheritUnifyFeatures" = 1 ] || return 0
  cargoInheritUnify
  cargoInheritRecordSources
}

postPatchHooks+=(cargoInheritStdenvInherit)
# crane's vendoring config is written by then, whichever phase it uses.
preBuildHooks+=(cargoInheritStableCraneVendor cargoInheritStdenvUnify)
postInstallHooks+=(cargoInheritStdenvInstall)
