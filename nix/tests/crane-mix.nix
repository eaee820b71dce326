# One chain mixing crane and cargo-inherit derivations, both ways:
# crane deps-only -> cargo-inherit build (exporting a crane archive) -> crane build.
{ src
, vendor
, cargoInheritVendor ? null
, cargoInherit ? null
, pname ? "fixture"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  crane = kind: attrs: derivation ({
    name = "${pname}-crane-${kind}";
    system = builtins.currentSystem;
    builder = "/bin/bash";
    args = [ ./crane-emulation.sh ];
    installCargoArtifactsMode = "use-zstd";
    inherit (lib) PATH;
    cargoVendorDir = vendor;
    cargoInherit = lib.cargoInherit;
    cargoInheritHooks = ../lib/hooks/vendor.sh;
  } // attrs);
  craneDeps = crane "deps" {
    src = lib.skeleton { inherit pname src; cargoVendorDir = vendor; };
    cargoCommands = "check --all-targets;build;test --no-run";
    craneDummy = "1";
  };
  # crane's deps read the vendored crates at their store path: so must
  # the build on them.
  ours = lib.build {
    inherit pname src;
    cargoVendorDir = vendor;
    cargoArtifacts = craneDeps;
    exportCrane = true;
    stableVendor = false;
  };
in
{
  inherit craneDeps ours;
  craneBuild = crane "build" {
    src = builtins.path { name = "${pname}-source"; path = src; };
    cargoArtifacts = lib.artifactsOf ours;
    installBins = "1";
  };
}
