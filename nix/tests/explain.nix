# A build whose RUSTFLAGS differ from its deps build's: every dependency
# rebuilds, and `cargo-inherit explain` says why, failing the build unless
# denyDeps is off.
{ src
, vendor
, cargoInheritVendor ? null
, cargoInherit ? null
, pname ? "fixture"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  common = { inherit pname src; cargoVendorDir = vendor; };
  deps = lib.depsOnly common;
  skewed = common // { cargoArtifacts = deps; env.RUSTFLAGS = "--cfg explain_test"; };
in
{
  tolerated = lib.build (skewed // { denyDeps = false; });
  denied = lib.build skewed;
}
