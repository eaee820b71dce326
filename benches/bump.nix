# Issue 12's events: the deps of a bumped lockfile, built from nothing (what
# crane does) and on the deps of the lockfile before (cargo-inherit).
{ baseSrc
, baseVendor
, src
, vendor
  # Changes every run, so the measured derivations are built anew; the
  # base is not stamped, so the events of one run share it.
, stamp
, cargoInheritVendor ? null
, cargoInherit ? null
, pname ? "service"
}:
let
  lib = import ../nix/lib { inherit cargoInheritVendor cargoInherit; };
  common = { inherit pname; cargoExtraArgs = "--release"; };
  base = lib.depsOnly (common // { src = baseSrc; cargoVendorDir = baseVendor; });
  bumped = common // { inherit src; cargoVendorDir = vendor; env.benchStamp = stamp; };
in
{
  inherit base;
  scratch = lib.depsOnly bumped;
  onBase = lib.depsOnly (bumped // { cargoArtifacts = base; });
}
