# One chain per strategy, on one workload: deps-only (release) -> build ->
# clippy, test --no-run, doc (each inheriting build), plus `forced`: the
# build with CC changed since the deps, so a C dependency must rebuild.
{ src
, vendor
, strategy
  # Changes every run, so every derivation is built and timed anew.
, stamp ? ""
  # Another measurement of one kind of derivation (build, clippy, ...):
  # only that derivation changes, what it inherits stays built.
, repKind ? ""
, rep ? ""
, cargoInheritVendor ? null
, cargoInherit ? null
, pname ? "workload"
}:
let
  lib = import ../nix/lib { inherit cargoInheritVendor cargoInherit; };
  args = "--release";
  commands = {
    deps = "check --all-targets;build;test --no-run";
    build = "build";
    clippy = "clippy --all-targets";
    test = "test --no-run";
    doc = "doc --no-deps";
  };
  forcedEnv = { CC = "gcc"; };
  repOf = kind: if kind == repKind then rep else "";

  ours = strategy:
    let
      common = { inherit pname src strategy; cargoVendorDir = vendor; cargoExtraArgs = args; env.benchStamp = stamp; };
      repEnv = kind: { env = common.env // { benchRep = repOf kind; }; };
      deps = lib.depsOnly (common // repEnv "deps");
      build = lib.build (common // { cargoArtifacts = deps; } // repEnv "build");
      on = kind: lib.cargoDerivation (common // repEnv kind // { inherit kind; cargoArtifacts = build; cargoCommands = commands.${kind}; });
    in
    {
      inherit deps build;
      clippy = on "clippy";
      test = on "test";
      doc = on "doc";
      forced = lib.build (common // { cargoArtifacts = deps; denyDeps = false; env = (repEnv "forced").env // forcedEnv; });
    };

  # crane, by the commands of its hooks (nix/tests/crane-emulation.sh).
  crane = mode:
    let
      drv = kind: attrs: derivation ({
        name = "${pname}-crane-${mode}-${kind}";
        system = builtins.currentSystem;
        builder = "/bin/bash";
        args = [ ../nix/tests/crane-emulation.sh ];
        installCargoArtifactsMode = mode;
        inherit (lib) PATH;
        cargoVendorDir = vendor;
        cargoInherit = lib.cargoInherit;
        cargoInheritHooks = ../nix/lib/hooks/vendor.sh;
        cargoExtraArgs = args;
        cargoCommands = commands.${kind};
        src = builtins.path { name = "${pname}-source"; path = src; };
        benchStamp = stamp;
        benchRep = repOf kind;
      } // attrs);
      deps = drv "deps" { src = lib.skeleton { inherit pname src; cargoVendorDir = vendor; }; craneDummy = "1"; };
      # Like crane's buildPackage (and cargo-inherit's build), install the binaries.
      build = drv "build" { cargoArtifacts = deps; installBins = "1"; };
    in
    {
      inherit deps build;
      clippy = drv "clippy" { cargoArtifacts = build; };
      test = drv "test" { cargoArtifacts = build; };
      doc = drv "doc" { cargoArtifacts = build; };
      forced = drv "build" ({
        cargoArtifacts = deps;
        installBins = "1";
        denyDeps = "0";
        name = "${pname}-crane-${mode}-forced";
        benchRep = repOf "forced";
      } // forcedEnv);
    };
in
{
  crane-zstd = crane "use-zstd";
  crane-symlink = crane "use-symlink";
  layered = ours "layered";
  symlink = ours "symlink";
}.${strategy}
