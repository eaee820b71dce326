# nixpkgs / crane entry point: cargo-inherit built with rustPlatform, the
# hooks of hooks/ wrapped by makeSetupHook, and crane's scope with its
# mkCargoDerivation overridden.
#
#   cargoInherit = pkgs.callPackage ./nix/lib/crane.nix { };
#   craneLib' = cargoInherit.overrideCrane craneLib { strategy = "layered"; };
#   deps = craneLib'.buildDepsOnly { inherit src; };
#   bin = craneLib'.buildPackage { inherit src; cargoArtifacts = deps; };
#   clippy = craneLib'.cargoClippy { inherit src; cargoArtifacts = bin; };
#
# Every crane builder (buildDepsOnly, buildPackage, cargoClippy, cargoTest,
# cargoDoc, cargoDocTest, cargoNextest, cargoLlvmCov, ... and any added
# later) makes its derivation with the mkCargoDerivation of crane's scope
# (crane's lib/default.nix callPackages each with the scope), so
# overriding that one function there covers them all; and since
# overrideToolchain, overrideScope and craneLib.craneLib are that scope
# again, they keep the override.
{ lib, makeSetupHook, rustPlatform }:
let
  cargoInherit = rustPlatform.buildRustPackage {
    pname = "cargo-inherit";
    version = "0.1.0";
    src = import ./tool-source.nix;
    cargoLock.lockFile = ../../Cargo.lock;
    # The test suite needs crates.io and a Nix daemon.
    doCheck = false;
  };

  hook = makeSetupHook {
    name = "cargo-inherit-hook";
    substitutions = { hooks = ./hooks; inherit cargoInherit; };
  } ./setup-hook.sh;

  artifactsOf = import ./artifacts-of.nix;
  unifiesFeatures = import ./unifies-features.nix;

  # What crane's mkCargoDerivation gets instead of a builder's arguments:
  # crane neither inherits nor installs artifacts, the hook lays out the
  # inherited layer and packs a new one, where crane would have installed
  # its own (crane's mkCargoDerivation.nix: `doInstallCargoArtifacts or
  # true`; buildPackage and cargoDoc default it to false, buildDepsOnly
  # sets it true) and in a package's `layer` output.
  craneArgs = { strategy ? "layered" }: args:
    let
      installs = args.doInstallCargoArtifacts or true;
      layerOutput = builtins.elem "layer" (args.outputs or [ "out" ]);
    in
    builtins.removeAttrs args [ "cargoArtifacts" ] // {
      cargoArtifacts = null;
      doInstallCargoArtifacts = false;
      cargoInheritStrategy = args.cargoInheritStrategy or strategy;
      cargoInheritArtifacts = args.cargoInheritArtifacts or (artifactsOf (args.cargoArtifacts or null));
      cargoInheritUnifyFeatures = args.cargoInheritUnifyFeatures
        or (if unifiesFeatures (args.cargoArtifacts or null) then "1" else "0");
      cargoInheritPackLayer = if installs || layerOutput then "1" else "0";
      nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ [ hook ];
    } // lib.optionalAttrs ((args.env or { }) ? CRANE_BUILD_DEPS_ONLY) {
      # What crane's deps build runs (buildDepsOnly.nix): the hook runs it
      # again for the selections it prepares (cargoInheritFanOut).
      cargoInheritDepsCommands = (args.buildPhaseCargoCommand or "") + "\n"
        + (if args.doCheck or false then args.checkPhaseCargoCommand or "" else "");
    } // lib.optionalAttrs ((args.installPhase or null) == "prepareAndInstallCargoArtifactsDir") {
      # buildPackage without cargoArtifacts makes its own deps with this
      # install phase (crane's buildPackage.nix), which installs crane's
      # archive and runs no postInstall hook: the hook's install instead.
      installPhase = "cargoInheritStdenvInstall";
    };

  # A package's layer goes to an output of its own (the hooks pack into
  # $layer when there is one), so that the package's closure is the package.
  withLayerOutput = args:
    let outputs = args.outputs or [ "out" ];
    in args // { outputs = outputs ++ (if builtins.elem "layer" outputs then [ ] else [ "layer" ]); };

  # crane's buildDepsOnly sets cargoArtifacts = null (buildDepsOnly.nix):
  # deps built on earlier deps hand theirs to the hook under its own name.
  withInheritedDeps = args:
    args // lib.optionalAttrs (args ? cargoArtifacts) { cargoInheritArtifacts = artifactsOf args.cargoArtifacts; };
in
{
  inherit cargoInherit hook craneArgs;

  overrideCrane = craneLib: { strategy ? "layered" }:
    craneLib.overrideScope (_final: prev: {
      mkCargoDerivation = args: prev.mkCargoDerivation (craneArgs { inherit strategy; } args);
      buildDepsOnly = args: prev.buildDepsOnly (withInheritedDeps args);
      buildPackage = args: prev.buildPackage (withLayerOutput args);
    });
}
