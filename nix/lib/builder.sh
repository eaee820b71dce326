# The standalone builder: the hooks, in order, with no stdenv around them.
set -euo pipefail
# shellcheck source=hooks/all.sh
source "$cargoInheritHooks/all.sh"
cargoInheritConfigureVendor
cargoInheritConfigure
cargoInheritPrepareSource
cargoInheritUnify
cargoInheritRecordSources
cargoInheritInherit
cargoInheritRunCargo
cargoInheritInstall
