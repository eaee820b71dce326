# A stand-in for crane (CI has neither crane nor nixpkgs), made as crane
# makes itself so that the override is tested against what crane does to
# arguments, not against a function that hands them back:
# - a scope (crane's lib/default.nix, lib.makeScope): each builder gets the
#   scope's own mkCargoDerivation and buildDepsOnly, overrideScope extends
#   it, and overrideToolchain and craneLib are that scope again;
# - each builder changes its arguments as crane's lib/<builder>.nix does
#   (cited below, crane 2c71e19), then calls mkCargoDerivation;
# - mkCargoDerivation (lib/mkCargoDerivation.nix) requires cargoArtifacts
#   and defaults doInstallCargoArtifacts to true; instead of a derivation it
#   returns the attributes one would get.
let
  # The scope of `f`: its attributes, with overrideScope extending `f`.
  makeScope = f:
    let self = f self // { overrideScope = g: makeScope (extend g f); };
    in self;
  extend = g: f: final: let prev = f final; in prev // g final prev;

  crane = self: {
    craneLib = self;
    mkCargoDerivation = { cargoArtifacts, ... }@args:
      args // { doInstallCargoArtifacts = args.doInstallCargoArtifacts or true; craneDerivation = true; };
    # lib/buildDepsOnly.nix: the caller's cargoArtifacts and outputs go;
    # it runs check and build, tests with doCheck (default on), marks the
    # environment and always installs artifacts, after the caller's arguments.
    buildDepsOnly = args: self.mkCargoDerivation (builtins.removeAttrs args [ "outputs" ] // {
      pnameSuffix = "-deps";
      cargoArtifacts = null;
      doCheck = args.doCheck or true;
      env = (args.env or { }) // { CRANE_BUILD_DEPS_ONLY = 1; };
      buildPhaseCargoCommand = "cargoWithProfile check --locked --all-targets\ncargoWithProfile build --locked\n";
      checkPhaseCargoCommand = "cargoWithProfile test --locked --no-run\n";
      doInstallCargoArtifacts = true;
    });
    # lib/buildPackage.nix: without cargoArtifacts it makes its own deps
    # (installing crane's archive from its install phase); no artifacts of
    # its own unless asked.
    buildPackage = args: self.mkCargoDerivation (args // {
      doInstallCargoArtifacts = args.doInstallCargoArtifacts or false;
      cargoArtifacts = args.cargoArtifacts or (self.buildDepsOnly (args // {
        installPhase = "prepareAndInstallCargoArtifactsDir";
      }));
    });
    # lib/cargoClippy.nix, cargoTest.nix, cargoBuild.nix, cargoDocTest.nix:
    # cargoArtifacts required, crane's install default kept.
    cargoClippy = { cargoArtifacts, ... }@args: self.mkCargoDerivation (args // { pnameSuffix = "-clippy"; });
    cargoTest = { cargoArtifacts, ... }@args: self.mkCargoDerivation (args // { pnameSuffix = "-test"; });
    cargoBuild = args: self.mkCargoDerivation (args // { pnameSuffix = "-build"; });
    cargoDocTest = { cargoArtifacts, ... }@args: self.mkCargoDerivation (args // { pnameSuffix = "-doctest"; });
    # lib/cargoDoc.nix: installs no artifacts unless asked.
    cargoDoc = args: self.mkCargoDerivation (args // {
      pnameSuffix = "-doc";
      doInstallCargoArtifacts = args.doInstallCargoArtifacts or false;
    });
    # lib/cargoLlvmCov.nix: never installs artifacts.
    cargoLlvmCov = args: self.mkCargoDerivation (args // { pnameSuffix = "-llvm-cov"; doInstallCargoArtifacts = false; });
    # lib/cargoNextest.nix (one partition): installs artifacts by default.
    cargoNextest = { cargoArtifacts, ... }@args: self.mkCargoDerivation (args // { pnameSuffix = "-nextest"; });
    # lib/default.nix: the scope again, with another toolchain.
    overrideToolchain = toolchain: self.overrideScope (_: _: { cargo = toolchain; rustc = toolchain; });
    cargo = "cargo";
    rustc = "rustc";
  };
in
makeScope crane
