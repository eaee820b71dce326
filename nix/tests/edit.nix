# What editing a member and changing the lockfile do to a chain.
{ src
, editedSrc
, relockedSrc
, remanifestedSrc
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
  relocked = common // { src = relockedSrc; cargoVendorDir = relockedVendor; };
  # The new lockfile's deps built on the old ones: only the bumped crate
  # (and its dependents) compiles; the chain on it compiles no dependency.
  relockedOnDeps = lib.depsOnly (relocked // { cargoArtifacts = deps; });
in
{
  inherit deps build;
  # The deps source holds no member code: the edit leaves the deps layer as it is.
  editedDeps = lib.depsOnly (common // { src = editedSrc; });
  # Built on the previous build layer: only the edited member may compile.
  edited = lib.build (common // { src = editedSrc; cargoArtifacts = build; });
  remanifestedDeps = lib.depsOnly (common // { src = remanifestedSrc; });
  relockedDeps = lib.depsOnly relocked;
  inherit relockedOnDeps;
  relockedBuild = lib.build (relocked // { cargoArtifacts = relockedOnDeps; });
}
