# What editing a member and changing the lockfile do to a chain.
{ src
, editedSrc
, relockedSrc
, vendor
, relockedVendor
, cargoInheritVendor ? null
, cargoInherit ? null
, strategy ? "layered"
, pname ? "fixture"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  common = { inherit pname strategy; cargoVendorDir = vendor; };
  deps = lib.depsOnly (common // { inherit src; });
  build = lib.build (common // { inherit src; cargoArtifacts = deps; });
in
{
  inherit deps build;
  # The skeleton is imported by content: the edit leaves the deps layer as it is.
  editedDeps = lib.depsOnly (common // { src = editedSrc; });
  # Built on the previous build layer: only the edited member may compile.
  edited = lib.build (common // { src = editedSrc; cargoArtifacts = build; });
  relockedDeps = lib.depsOnly (common // { src = relockedSrc; cargoVendorDir = relockedVendor; });
}
