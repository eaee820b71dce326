# The standalone builder: the hooks, in order, with no stdenv around them.
set -euo pipefail
# shellcheck source=hooks.sh
source "$cargoInheritHooks"
cargoInheritConfigureVendor
cargoInheritConfigure
cargoInheritPrepareSource
cargoInheritInherit
cargoInheritRunCargo
cargoInheritInstall
