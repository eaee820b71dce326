# Deps of one project built on other projects' deps: medium (42 crates) on
# basic's deps (the serde stack), and on basic's and cc-sys's (cc, shlex)
# at once. Each compiles only what its parents lack.
{ fixtures
, vendors
, cargoInheritVendor ? null
, cargoInherit ? null
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  project = pname: { inherit pname; src = fixtures + "/${pname}"; cargoVendorDir = vendors.${pname}; };
  deps = pname: lib.depsOnly (project pname);
  onBasic = lib.depsOnly (project "medium" // { cargoArtifacts = deps "basic"; });
  onBoth = lib.depsOnly (project "medium" // { cargoArtifacts = [ (deps "basic") (deps "cc-sys") ]; });
in
{
  inherit onBasic onBoth;
  build = lib.build (project "medium" // { cargoArtifacts = onBoth; });
}
