# deps-only -> build -> {clippy, test, doc}, each inheriting from the one
# before, for one workspace and one strategy.
{ src
, vendor
, cargoInheritVendor ? null
, cargoInherit ? null
, strategy ? "layered"
, cargoExtraArgs ? ""
, pname ? "fixture"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  common = { inherit pname src strategy cargoExtraArgs; cargoVendorDir = vendor; };
  deps = lib.depsOnly common;
  build = lib.build (common // { cargoArtifacts = deps; });
  onBuild = f: f (common // { cargoArtifacts = build; });
in
{
  inherit deps build;
  inherit (lib) cargoInherit;
  clippy = onBuild lib.clippy;
  test = onBuild lib.test;
  doc = onBuild lib.doc;
  nextest = onBuild lib.nextest;
}
