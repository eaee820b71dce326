# Setup hook for nixpkgs' stdenv (crane.nix wraps it with makeSetupHook):
# the same functions as the standalone builder, registered in stdenv's
# phases. Cargo itself is run by the derivation (crane's buildPhase).
# shellcheck source=hooks.sh
source @hooks@
export cargoInherit=@cargoInherit@

cargoInheritStdenvInherit() {
  cargoInheritConfigure
  cargoInheritInherit
}

cargoInheritStdenvInstall() {
  cargoInheritInstall
}

postPatchHooks+=(cargoInheritStdenvInherit)
if [ "${cargoInheritPackLayer:-1}" = 1 ]; then
  postInstallHooks+=(cargoInheritStdenvInstall)
fi
