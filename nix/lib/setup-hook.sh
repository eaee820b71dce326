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

# After the last cargo run (crane's tests run in checkPhase): say why any
# dependency compiled, then pack.
cargoInheritStdenvInstall() {
  cargoInheritExplainWatched
  cargoInheritInstall
}

postPatchHooks+=(cargoInheritStdenvInherit)
# crane's vendoring config is written by then, whichever phase it uses.
preBuildHooks+=(cargoInheritStableCraneVendor)
postInstallHooks+=(cargoInheritStdenvInstall)
