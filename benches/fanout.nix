# A monorepo fanned out per service (issue 23): one deps derivation, then
# one release build per service (`-p svc`), for each strategy; crane as
# chain.nix emulates it (its deps for the workspace's union, a whole
# target per service, which compiles again what the service's features
# change). `union` is cargo-inherit's deps without fan-out, to compare
# the deps derivation with; `*-unified` cargo-inherit with unifyFeatures
# (a workspace-hack: every service built with the union's features).
{ src
, vendor
, strategy
, services
  # Changes every run, so every derivation is built and timed anew.
, stamp ? ""
, cargoInheritVendor ? null
, cargoInherit ? null
, pname ? "monorepo"
}:
let
  lib = import ../nix/lib { inherit cargoInheritVendor cargoInherit; };
  args = "--release";
  select = service: "${args} -p ${service}";
  perService = f: builtins.listToAttrs (map (service: { name = service; value = f service; }) services);

  ours = strategy: fanOut: unifyFeatures:
    let
      common = { inherit pname src strategy; cargoVendorDir = vendor; cargoExtraArgs = args; env.benchStamp = stamp; };
      deps = lib.depsOnly (common // { inherit fanOut unifyFeatures; });
    in
    { inherit deps; } // perService (service:
      lib.build (common // { cargoArtifacts = deps; cargoExtraArgs = select service; }));

  crane =
    let
      drv = kind: attrs: derivation ({
        name = "${pname}-crane-${kind}";
        system = builtins.currentSystem;
        builder = "/bin/bash";
        args = [ ../nix/tests/crane-emulation.sh ];
        installCargoArtifactsMode = "use-zstd";
        inherit (lib) PATH;
        cargoVendorDir = vendor;
        cargoInherit = lib.cargoInherit;
        cargoInheritHooks = ../nix/lib/hooks/vendor.sh;
        cargoExtraArgs = args;
        src = builtins.path { name = "${pname}-source"; path = src; };
        benchStamp = stamp;
      } // attrs);
      deps = drv "deps" {
        src = lib.skeleton { inherit pname src; cargoVendorDir = vendor; };
        craneDummy = "1";
        cargoCommands = "check --all-targets;build;test --no-run";
      };
    in
    { inherit deps; } // perService (service: drv service {
      cargoArtifacts = deps;
      cargoCommands = "build";
      cargoExtraArgs = select service;
      # crane's buildPackage installs no artifacts, only the binaries.
      installCargoArtifactsMode = "none";
      installBins = "1";
      denyDeps = "0";
    });
in
{
  crane-zstd = crane;
  layered = ours "layered" true false;
  symlink = ours "symlink" true false;
  union = ours "layered" false false;
  layered-unified = ours "layered" true true;
  symlink-unified = ours "symlink" true true;
}.${strategy}
