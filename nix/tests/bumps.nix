# A project's deps after a change to its dependencies (a -sys crate bumped,
# a dependency added or removed), built on its deps before.
{ src
, vendor
, changedSrc
, changedVendor
, pname
, cargoInheritVendor ? null
, cargoInherit ? null
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  before = lib.depsOnly { inherit pname src; cargoVendorDir = vendor; };
in
{
  onBefore = lib.depsOnly { inherit pname; src = changedSrc; cargoVendorDir = changedVendor; cargoArtifacts = before; };
}
