# nixpkgs / crane entry point: cargo-inherit built with rustPlatform, the
# hooks of hooks/ wrapped by makeSetupHook, and an override set that
# swaps crane's artifact inherit/install hooks for cargo-inherit's.
#
#   cargoInherit = pkgs.callPackage ./nix/lib/crane.nix { };
#   craneLib' = cargoInherit.overrideCrane craneLib { strategy = "layered"; };
#   deps = craneLib'.buildDepsOnly { inherit src; };
#   bin = craneLib'.buildPackage { inherit src; cargoArtifacts = deps; };
#   clippy = craneLib'.cargoClippy { inherit src; cargoArtifacts = bin; };
{ lib, makeSetupHook, rustPlatform }:
let
  cargoInherit = rustPlatform.buildRustPackage {
    pname = "cargo-inherit";
    version = "0.1.0";
    src = lib.cleanSource ../..;
    cargoLock.lockFile = ../../Cargo.lock;
    # The test suite needs crates.io and a Nix daemon.
    doCheck = false;
  };

  hook = makeSetupHook {
    name = "cargo-inherit-hook";
    substitutions = { hooks = ./hooks; inherit cargoInherit; };
  } ./setup-hook.sh;

  # Arguments for any crane builder: crane neither inherits nor installs
  # artifacts; the hook lays out cargoArtifacts' layer and packs a new one.
  craneArgs = { strategy ? "layered" }: args:
    builtins.removeAttrs args [ "cargoArtifacts" ] // {
      cargoArtifacts = null;
      doInstallCargoArtifacts = false;
      cargoInheritStrategy = strategy;
      cargoInheritArtifacts = artifactsOf (args.cargoArtifacts or null);
      nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ [ hook ];
    };

  # A package's layer goes to an output of its own (the hooks pack into
  # $layer when there is one), so that the package's closure is the package.
  withLayerOutput = args:
    let outputs = args.outputs or [ "out" ];
    in args // { outputs = outputs ++ (if builtins.elem "layer" outputs then [ ] else [ "layer" ]); };

  artifactsOf = import ./artifacts-of.nix;
in
{
  inherit cargoInherit hook craneArgs;

  overrideCrane = craneLib: { strategy ? "layered" }:
    let wrap = builder: args: builder (craneArgs { inherit strategy; } args);
    in craneLib // {
      buildDepsOnly = wrap craneLib.buildDepsOnly;
      buildPackage = args: wrap craneLib.buildPackage (withLayerOutput args);
      cargoBuild = wrap craneLib.cargoBuild;
      cargoClippy = wrap craneLib.cargoClippy;
      cargoTest = wrap craneLib.cargoTest;
      cargoDoc = wrap craneLib.cargoDoc;
      cargoNextest = wrap craneLib.cargoNextest;
      mkCargoDerivation = wrap craneLib.mkCargoDerivation;
    };
}
