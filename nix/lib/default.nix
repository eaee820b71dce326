# Standalone entry point: plain `derivation` with a bash builder and the host
# toolchain exposed through sandbox-paths, no nixpkgs needed. Build with e.g.
#   nix-build --option sandbox true --option substituters '' \
#     --option sandbox-paths "/rust=$(rustc --print sysroot) /bin /usr /lib /lib64 /etc/alternatives /etc/passwd"
{ system ? builtins.currentSystem
  # Where sandbox-paths mounts the Rust toolchain, and the host's tools.
, toolchain ? "/rust"
, hostPath ? "/usr/local/bin:/usr/bin:/bin"
  # Vendored crates of this repository, to build cargo-inherit itself ...
, cargoInheritVendor ? null
  # ... or an already built cargo-inherit (a path holding bin/).
, cargoInherit ? null
}:
let
  PATH = "${toolchain}/bin:${hostPath}";

  # A source tree without build outputs, copied into the store.
  cleanSource = name: src:
    if builtins.isPath src then
      builtins.path {
        inherit name;
        path = src;
        filter = path: type: !(builtins.elem (baseNameOf path) [ "target" "result" ".git" ]);
      }
    else src;

  tool =
    if cargoInherit != null then cargoInherit
    else if cargoInheritVendor == null then throw "nix/lib: give cargoInheritVendor (cargo vendor of this repository) or cargoInherit"
    else derivation {
      name = "cargo-inherit";
      inherit system PATH;
      builder = "/bin/bash";
      args = [ ./build-cargo-inherit.sh ];
      cargoInheritHooks = ./hooks.sh;
      src = builtins.path {
        name = "cargo-inherit-source";
        path = ../..;
        filter = path: type:
          let rel = builtins.substring (builtins.stringLength (toString ../..) + 1) 1000 (toString path);
          in builtins.any (p: rel == p || builtins.substring 0 (builtins.stringLength p + 1) rel == "${p}/")
            [ "Cargo.toml" "Cargo.lock" "src" "rustc-wrapper" ];
      };
      cargoVendorDir = cargoInheritVendor;
    };

  # The workspace with dummy sources, imported back into the store by
  # content: editing a member leaves it, and so the deps layer, unchanged.
  # keep: paths below the workspace root the deps build reads besides the
  # manifests, the lockfile and .cargo/ (kept whole), e.g. a file a build
  # script of a member includes.
  skeleton = { pname, src, cargoVendorDir, keep ? [ ] }:
    let
      drv = derivation {
        name = "${pname}-skeleton-build";
        inherit system PATH cargoVendorDir;
        builder = "/bin/bash";
        args = [ "-c" ''
          set -euo pipefail
          source ${./hooks.sh}
          export HOME="$NIX_BUILD_TOP" CARGO_HOME="$NIX_BUILD_TOP/.cargo-home"
          mkdir -p "$CARGO_HOME"
          cargoInheritVendorConfig "$cargoVendorDir" "$CARGO_HOME/config.toml"
          ${tool}/bin/cargo-inherit skeleton "$src" "$out" ${builtins.concatStringsSep " " (map (k: "--keep '${k}'") keep)}
        '' ];
        src = cleanSource "${pname}-source" src;
      };
    in builtins.path { name = "${pname}-skeleton"; path = drv; };

  # One derivation of a chain: lay out cargoArtifacts, run cargo, pack a layer.
  cargoDerivation =
    { pname
    , src
    , cargoVendorDir
    , kind ? "build"
    , cargoArtifacts ? null
    , strategy ? "layered"
    , cargoCommands ? "build"
    , cargoExtraArgs ? ""
    , isSkeleton ? false
    , denyDeps ? true
    , packLayer ? true
      # zstd level of the layer: higher stores fewer bytes and packs slower.
    , packLevel ? 1
    , installBins ? false
      # Also write $out/target.tar.zst, for crane derivations to inherit.
    , exportCrane ? false
      # Extra environment (RUSTFLAGS, CC, ...): give every derivation of a chain the same.
    , env ? { }
    }:
    derivation ({
      name = "${pname}-${kind}";
      inherit system PATH cargoVendorDir cargoCommands cargoExtraArgs;
      builder = "/bin/bash";
      args = [ ./builder.sh ];
      cargoInheritHooks = ./hooks.sh;
      cargoInherit = tool;
      src = if isSkeleton then src else cleanSource "${pname}-source" src;
      cargoInheritStrategy = strategy;
      cargoInheritSkeleton = if isSkeleton then "1" else "0";
      cargoInheritDenyDeps = if denyDeps then "1" else "0";
      cargoInheritPackLayer = if packLayer then "1" else "0";
      cargoInheritPackLevel = toString packLevel;
      cargoInheritInstallBins = if installBins then "1" else "0";
      cargoInheritExportCrane = if exportCrane then "1" else "0";
    } // env // (if cargoArtifacts == null then { } else { cargoInheritArtifacts = cargoArtifacts; }));
in
rec {
  cargoInherit = tool;
  inherit cargoDerivation skeleton PATH;

  # Every dependency of the workspace, built from its skeleton, in the modes
  # later derivations need (check for clippy, test profile for tests).
  # skeletonKeep: see `skeleton`'s keep.
  depsOnly = args@{ pname, src, cargoVendorDir, skeletonKeep ? [ ], ... }:
    cargoDerivation ({ cargoCommands = "check --all-targets;build;test --no-run"; } // builtins.removeAttrs args [ "skeletonKeep" ] // {
      kind = "deps";
      src = skeleton { inherit pname src cargoVendorDir; keep = skeletonKeep; };
      isSkeleton = true;
    });

  build = args: cargoDerivation ({ installBins = true; } // args // { kind = "build"; cargoCommands = "build"; });
  clippy = args: cargoDerivation ({ cargoCommands = "clippy --all-targets"; } // args // { kind = "clippy"; });
  test = args: cargoDerivation ({ cargoCommands = "test"; } // args // { kind = "test"; });
  doc = args: cargoDerivation ({ cargoCommands = "doc --no-deps"; } // args // { kind = "doc"; });
  nextest = args: cargoDerivation ({ cargoCommands = "nextest run"; } // args // { kind = "nextest"; });
}
