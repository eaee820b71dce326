# A chain that goes through a binary cache: deps -> build, then `after`
# inherits build's layer once it has been deleted and substituted back.
{ src
, vendor
, cargoInheritVendor ? null
, cargoInherit ? null
, strategy ? "layered"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  # A name of its own: no other test's chain shares (and keeps alive) these paths.
  common = { inherit src strategy; pname = "cache-${strategy}"; cargoVendorDir = vendor; };
  deps = lib.depsOnly common;
  build = lib.build (common // { cargoArtifacts = deps; });
in
{
  inherit deps build;
  after = lib.clippy (common // { cargoArtifacts = build; });
}
