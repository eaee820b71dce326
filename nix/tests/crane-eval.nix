# Evaluates nix/lib/crane.nix against stand-ins for nixpkgs and crane (this
# machine has neither): what the override set hands each crane builder.
let
  makeSetupHook = attrs: script: { hookName = attrs.name; inherit script; inherit (attrs) substitutions; };
  rustPlatform.buildRustPackage = attrs: { inherit (attrs) pname; lockFile = attrs.cargoLock.lockFile; };
  cargoInherit = import ../lib/crane.nix {
    lib.cleanSource = path: path;
    inherit makeSetupHook rustPlatform;
  };
  builders = [ "buildDepsOnly" "buildPackage" "cargoBuild" "cargoClippy" "cargoTest" "cargoDoc" "cargoNextest" "mkCargoDerivation" ];
  fakeCrane = builtins.listToAttrs (map (name: { inherit name; value = args: args // { craneBuilder = name; }; }) builders)
    // { unrelated = "kept"; };
  craneLib = cargoInherit.overrideCrane fakeCrane { strategy = "symlink"; };
  deps = craneLib.buildDepsOnly { src = "src"; };
  bin = craneLib.buildPackage { src = "src"; cargoArtifacts = "DEPS"; nativeBuildInputs = [ "pkg-config" ]; };
  clippy = craneLib.cargoClippy { src = "src"; cargoArtifacts = bin; };
  checks = {
    every-builder-wrapped = builtins.all (name: (craneLib.${name} { }).craneBuilder == name && (craneLib.${name} { }).cargoArtifacts == null) builders;
    deps-installs-no-crane-artifacts = deps.doInstallCargoArtifacts == false && deps.cargoInheritArtifacts == null;
    artifacts-go-to-the-hook = bin.cargoInheritArtifacts == "DEPS" && bin.cargoArtifacts == null && clippy.cargoInheritArtifacts == bin;
    strategy-passed = bin.cargoInheritStrategy == "symlink";
    package-layer-apart = bin.outputs == [ "out" "layer" ] && deps ? outputs == false;
    layer-output-inherited = (craneLib.cargoTest { cargoArtifacts = { layer = "LAYER"; }; }).cargoInheritArtifacts == "LAYER";
    hook-appended = bin.nativeBuildInputs == [ "pkg-config" cargoInherit.hook ] && cargoInherit.hook.hookName == "cargo-inherit-hook";
    hook-gets-the-tool = cargoInherit.hook.substitutions.cargoInherit.pname == "cargo-inherit";
    rest-of-crane-kept = craneLib.unrelated == "kept";
  };
  failed = builtins.filter (name: !checks.${name}) (builtins.attrNames checks);
in
if failed == [ ] then "ok" else throw "crane.nix: failed checks: ${toString failed}"
