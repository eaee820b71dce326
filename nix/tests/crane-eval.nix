# Evaluates nix/lib/crane.nix against a crane stand-in that does to
# arguments what crane's builders do (fake-crane.nix): what each derivation
# of the override would get. Defects the real crane showed (deps installing
# crane's archive, a package without cargoArtifacts losing its deps,
# builders and overrideToolchain bypassing the override) fail here.
let
  makeSetupHook = attrs: script: { hookName = attrs.name; inherit script; inherit (attrs) substitutions; };
  rustPlatform.buildRustPackage = attrs: { inherit (attrs) pname; lockFile = attrs.cargoLock.lockFile; src = attrs.src; };
  lib.optionalAttrs = cond: attrs: if cond then attrs else { };
  cargoInherit = import ../lib/crane.nix { inherit lib makeSetupHook rustPlatform; };
  craneLib = cargoInherit.overrideCrane (import ./fake-crane.nix) { strategy = "symlink"; };
  deps = craneLib.buildDepsOnly { src = "src"; };
  bin = craneLib.buildPackage { src = "src"; cargoArtifacts = deps; nativeBuildInputs = [ "pkg-config" ]; };
  auto = craneLib.buildPackage { src = "src"; };
  on = artifacts: builder: craneLib.${builder} { src = "src"; cargoArtifacts = artifacts; };
  builders = [ "cargoBuild" "cargoClippy" "cargoTest" "cargoDoc" "cargoDocTest" "cargoLlvmCov" "cargoNextest" ];
  overridden = d: d.craneDerivation && (d.cargoInheritStrategy or null) == "symlink" && d.cargoArtifacts == null
    && d.doInstallCargoArtifacts == false && builtins.elem cargoInherit.hook (d.nativeBuildInputs or [ ]);
  packs = d: d.cargoInheritPackLayer or null;
  checks = {
    every-builder-overridden = builtins.all (b: overridden (on bin b)) builders && overridden deps && overridden bin;
    deps-install-no-crane-artifacts = deps.doInstallCargoArtifacts == false && packs deps == "1";
    deps-prepare-other-selections = builtins.match ".*check --locked --all-targets.*build --locked.*test --locked --no-run.*"
      (builtins.replaceStrings [ "\n" ] [ " " ] (deps.cargoInheritDepsCommands or "")) != null
      && !((craneLib.buildDepsOnly { src = "src"; doCheck = false; }).cargoInheritDepsCommands or "" != ""
        && builtins.match ".*test.*" (craneLib.buildDepsOnly { src = "src"; doCheck = false; }).cargoInheritDepsCommands != null)
      && !(bin ? cargoInheritDepsCommands);
    deps-on-deps-inherit = (craneLib.buildDepsOnly { src = "src"; cargoArtifacts = deps; }).cargoInheritArtifacts or null == deps;
    package-without-artifacts-gets-deps = (auto.cargoInheritArtifacts or { }).pnameSuffix or null == "-deps"
      && auto.cargoInheritArtifacts.installPhase == "cargoInheritStdenvInstall"
      && auto.cargoInheritArtifacts.doInstallCargoArtifacts == false;
    artifacts-go-to-the-hook = bin.cargoInheritArtifacts == deps
      && (on { layer = "LAYER"; } "cargoClippy").cargoInheritArtifacts == "LAYER";
    package-layer-apart = bin.outputs == [ "out" "layer" ] && deps ? outputs == false && packs bin == "1";
    doc-and-coverage-pack-no-layer = packs (on bin "cargoDoc") == "0"
      && packs (on bin "cargoLlvmCov") == "0" && packs (on bin "cargoClippy") == "1";
    override-survives-the-scope = overridden ((craneLib.overrideToolchain "t").buildDepsOnly { src = "src"; })
      && overridden (craneLib.craneLib.buildPackage { src = "src"; })
      && overridden ((craneLib.overrideScope (_: _: { })).cargoDocTest { src = "src"; cargoArtifacts = deps; })
      && (craneLib.overrideToolchain "t").cargo == "t";
    hook-appended = bin.nativeBuildInputs == [ "pkg-config" cargoInherit.hook ] && cargoInherit.hook.hookName == "cargo-inherit-hook";
    hook-gets-the-tool = cargoInherit.hook.substitutions.cargoInherit.pname == "cargo-inherit";
    unify-follows-the-artifacts =
      let
        unifiedDeps = craneLib.buildDepsOnly { src = "src"; cargoInheritUnifyFeatures = "1"; };
        unifiedAuto = craneLib.buildPackage { src = "src"; cargoInheritUnifyFeatures = "1"; };
      in
      unifiedDeps.cargoInheritUnifyFeatures == "1"
      && (on unifiedDeps "cargoClippy").cargoInheritUnifyFeatures == "1"
      && (on (on unifiedDeps "buildPackage") "cargoTest").cargoInheritUnifyFeatures == "1"
      && unifiedAuto.cargoInheritArtifacts.cargoInheritUnifyFeatures == "1"
      && bin.cargoInheritUnifyFeatures == "0" && deps.cargoInheritUnifyFeatures == "0";
    tool-source-is-filtered = builtins.all (name: !(builtins.pathExists "${cargoInherit.cargoInherit.src}/${name}"))
      [ "target" "tests" "benches" "nix" ];
  };
  failed = builtins.filter (name: !checks.${name}) (builtins.attrNames checks);
in
if failed == [ ] then "ok" else throw "crane.nix: failed checks: ${toString failed}"
