# Standalone entry point: plain `derivation` with a bash builder and the host
# toolchain exposed through sandbox-paths, no nixpkgs needed. Build with e.g.
#   nix-build --option sandbox true --option substituters '' \
#     --option sandbox-paths "/rust=$(rustc --print sysroot) /bin /usr /lib /lib64 /etc/alternatives /etc/passwd"
{ system ? builtins.currentSystem
  # Where sandbox-paths mounts the Rust toolchain, and the host's tools.
, toolchain ? "/rust"
, hostPath ? "/usr/local/bin:/usr/bin:/bin"
  # Vendored crates of this repository, to build cargo-inherit itself
  # (default: fetched by its Cargo.lock, see vendor.nix) ...
, cargoInheritVendor ? null
  # ... or an already built cargo-inherit (a path holding bin/).
, cargoInherit ? null
}:
let
  PATH = "${toolchain}/bin:${hostPath}";

  paths = import ./paths.nix;
  inherit (paths) ignoredNames relativeTo under;

  # A source tree without build outputs, copied into the store.
  cleanSource = name: src:
    if builtins.isPath src then
      builtins.path {
        inherit name;
        path = src;
        filter = path: type: !(builtins.elem (baseNameOf path) ignoredNames);
      }
    else src;

  vendorCargoLock = import ./vendor.nix { inherit system PATH; };

  tool =
    if cargoInherit != null then cargoInherit
    else derivation {
      name = "cargo-inherit";
      inherit system PATH;
      builder = "/bin/bash";
      args = [ ./build-cargo-inherit.sh ];
      # Only what it sources: an edit to another hook keeps the tool.
      cargoInheritVendorHooks = ./hooks/vendor.sh;
      src = import ./tool-source.nix;
      cargoVendorDir =
        if cargoInheritVendor != null then cargoInheritVendor else vendorCargoLock ../../Cargo.lock;
    };

  hasSuffix = suffix: s:
    let n = builtins.stringLength s; k = builtins.stringLength suffix;
    in n >= k && builtins.substring (n - k) k s == suffix;

  # What the dependencies are built from, found at evaluation time (no
  # import from derivation): a copy of src with the manifests, the
  # lockfile, toolchain files, .cargo/ and the paths in keep, and a list of
  # the names (not the contents) of every other .rs file, which is all
  # cargo's target discovery needs. Editing code changes neither; editing a
  # manifest or the lockfile changes the source. The skeleton itself
  # (`cargo-inherit skeleton --file-names`) is made inside the build.
  # keep: paths below the root the deps build reads besides those, e.g. a
  # file a member's build script includes. Path packages inside the tree
  # that are not members are compiled with the dependencies and kept whole
  # without asking: the root manifest's workspace.exclude and [patch] paths
  # of the root manifest and .cargo/config.toml, every path dependency of a
  # root package without a [workspace] table (none is a member then), and
  # in turn the path dependencies of each package kept (the skeleton names
  # any other it finds missing).
  depsSource = { pname, src, keep ? [ ] }:
    let
      tomlAt = rel: if builtins.pathExists (src + "/${rel}") then builtins.fromTOML (builtins.readFile (src + "/${rel}")) else { };
      manifest = tomlAt "Cargo.toml";
      patchPaths = patch: builtins.concatLists (map
        (registry: map (p: p.path) (builtins.filter (p: p ? path) (builtins.attrValues patch.${registry})))
        (builtins.attrNames patch));
      # Every table of dependencies a manifest has, of each kind and target.
      depTables = m:
        let kinds = t: map (kind: t.${kind} or { }) [ "dependencies" "dev-dependencies" "build-dependencies" ];
        in kinds m ++ builtins.concatMap kinds (builtins.attrValues (m.target or { }));
      # The path dependencies of the manifest in directory dir, below the root.
      pathDeps = dir: m: builtins.concatMap
        (table: map (dep: paths.normalise "${dir}/${dep.path}")
          (builtins.filter (dep: builtins.isAttrs dep && dep ? path) (builtins.attrValues table)))
        (depTables m);
      inTree = rel: rel != null && rel != "" && builtins.pathExists (src + "/${rel}");
      asKeys = rels: map (key: { inherit key; }) (builtins.filter inTree rels);
      nonMembers = map (item: item.key) (builtins.genericClosure {
        startSet = asKeys (map paths.normalise
          ((manifest.workspace.exclude or [ ]) ++ patchPaths (manifest.patch or { })
            ++ patchPaths ((tomlAt ".cargo/config.toml").patch or { }))
          ++ (if manifest ? workspace then [ ] else pathDeps "" manifest));
        operator = item: asKeys (pathDeps item.key (tomlAt "${item.key}/Cargo.toml"));
      });
      keptWhole = keep ++ nonMembers;
      withContents = rel:
        baseNameOf rel == "Cargo.toml"
        || builtins.elem rel [ "Cargo.lock" "rust-toolchain" "rust-toolchain.toml" ]
        || builtins.any (dir: under dir rel) ([ ".cargo" ] ++ keptWhole);
      rustFiles = dir: prefix: builtins.concatLists (builtins.attrValues (builtins.mapAttrs
        (name: type:
          if builtins.elem name ignoredNames then [ ]
          else if type == "directory" then rustFiles (dir + "/${name}") "${prefix}${name}/"
          else if hasSuffix ".rs" name then [ "${prefix}${name}" ]
          else [ ])
        (builtins.readDir dir)));
    in
    {
      src = builtins.path {
        name = "${pname}-deps-source";
        path = src;
        filter = path: type:
          !(builtins.elem (baseNameOf path) ignoredNames)
          && (type == "directory" || withContents (relativeTo src path));
      };
      fileNames = builtins.toFile "${pname}-file-names"
        (builtins.concatStringsSep "\n" (rustFiles src "") + "\n");
      keep = builtins.concatStringsSep "\n" keptWhole;
    };

  # The skeleton as a derivation of its own, for builders that want a
  # dummy source rather than cargo-inherit's deps derivation (crane's).
  skeleton = { pname, src, cargoVendorDir, keep ? [ ] }:
    let deps = depsSource { inherit pname src keep; };
    in derivation {
      name = "${pname}-skeleton";
      inherit system PATH cargoVendorDir;
      builder = "/bin/bash";
      args = [ "-c" ''
        set -euo pipefail
        source ${./hooks}/all.sh
        cargoInheritConfigureVendor
        cargoInheritMakeSkeleton "$out"
      '' ];
      cargoInherit = tool;
      inherit (deps) src;
      cargoInheritSkeletonFileNames = deps.fileNames;
      cargoInheritSkeletonKeep = deps.keep;
    };

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
      # true: build from the skeleton of src (see depsSource), the
      # dependencies only; skeletonKeep: depsSource's keep.
    , isSkeleton ? false
    , skeletonKeep ? [ ]
    , denyDeps ? true
    , packLayer ? true
      # Leave out of the layer the units of dependencies this derivation's
      # cargo runs did not use (a deps build on another lockfile's deps
      # keeps the replaced versions otherwise): only where those runs cover
      # what later derivations need, as a deps derivation's do.
    , pruneUnused ? false
      # zstd level of the layer: higher stores fewer bytes and packs slower;
      # "auto" lets pack choose by the bytes the layer stores (a deps layer
      # higher, a workspace's own units at level 1).
    , packLevel ? "auto"
    , installBins ? false
      # Also write $out/target.tar.zst, for crane derivations to inherit.
    , exportCrane ? false
      # false: cargo reads the vendored crates at their store path, as crane
      # does (to inherit from crane derivations that did so). true: at a fixed
      # path, so that a new lockfile keeps the fingerprints of unchanged crates.
    , stableVendor ? true
      # Deps builds only: also build the dependencies as each member on its
      # own (`-p member`) resolves their features, where that differs from
      # the workspace's (fanOut); and as each of `selections` does (cargo
      # arguments: "-p a -p b", "--bin x", "--features f").
    , fanOut ? true
    , selections ? [ ]
      # Every selection resolves each dependency with the workspace's
      # features (`cargo-inherit unify` writes a workspace-hack member), so
      # a -p build needs no units but the union's; each binary then gets
      # the union's features. Inherited from cargoArtifacts: a chain agrees.
    , unifyFeatures ? unifiesFeatures cargoArtifacts
      # Extra environment (RUSTFLAGS, CC, ...): give every derivation of a chain the same.
    , env ? { }
    }:
    derivation ({
      name = "${pname}-${kind}";
      # out holds what the derivation makes (executables, libraries, the
      # report); the layer lives in its own output, so that a package's
      # closure is the package and not the chain below it.
      outputs = [ "out" ] ++ (if packLayer then [ "layer" ] else [ ]);
      inherit system PATH cargoVendorDir cargoCommands cargoExtraArgs;
      builder = "/bin/bash";
      args = [ ./builder.sh ];
      cargoInheritHooks = ./hooks;
      cargoInherit = tool;
      cargoInheritStrategy = strategy;
      cargoInheritSkeleton = if isSkeleton then "1" else "0";
      cargoInheritDenyDeps = if denyDeps then "1" else "0";
      cargoInheritPackLayer = if packLayer then "1" else "0";
      cargoInheritPruneUnused = if pruneUnused then "1" else "0";
      cargoInheritPackLevel = toString packLevel;
      cargoInheritInstallBins = if installBins then "1" else "0";
      cargoInheritExportCrane = if exportCrane then "1" else "0";
      # No fixup follows this builder's install: the layer may read $out's files.
      cargoInheritBorrowOut = "1";
      cargoInheritStableVendor = if stableVendor then "1" else "0";
      cargoInheritFanOut = if fanOut then "1" else "0";
      cargoInheritSelections = builtins.concatStringsSep ";" selections;
      cargoInheritUnifyFeatures = if unifyFeatures then "1" else "0";
    } // (if isSkeleton then
      let deps = depsSource { inherit pname src; keep = skeletonKeep; }; in {
        inherit (deps) src;
        cargoInheritSkeletonFileNames = deps.fileNames;
        cargoInheritSkeletonKeep = deps.keep;
      }
    else { src = cleanSource "${pname}-source" src; })
    // env // (if cargoArtifacts == null then { } else { cargoInheritArtifacts = artifactsOf cargoArtifacts; }));

  artifactsOf = import ./artifacts-of.nix;
  unifiesFeatures = import ./unifies-features.nix;
in
rec {
  cargoInherit = tool;
  # A Cargo.lock's crates.io packages as a vendored directory (cargoVendorDir).
  inherit vendorCargoLock;
  inherit cargoDerivation depsSource skeleton artifactsOf PATH;

  # Every dependency of the workspace, built from its skeleton, in the modes
  # later derivations need (check for clippy, test profile for tests).
  # skeletonKeep: see depsSource's keep. cargoArtifacts may be another deps
  # derivation, of another lockfile (an earlier revision, another project):
  # then only the crates that changed and their dependents compile, and
  # the replaced versions' units are left out of the layer.
  depsOnly = args:
    cargoDerivation ({
      cargoCommands = "check --all-targets;build;test --no-run";
      denyDeps = false;
      pruneUnused = true;
    } // args // {
      kind = "deps";
      isSkeleton = true;
    });

  build = args: cargoDerivation ({ installBins = true; } // args // { kind = "build"; cargoCommands = "build"; });
  clippy = args: cargoDerivation ({ cargoCommands = "clippy --all-targets"; } // args // { kind = "clippy"; });
  test = args: cargoDerivation ({ cargoCommands = "test"; } // args // { kind = "test"; });
  doc = args: cargoDerivation ({ cargoCommands = "doc --no-deps"; } // args // { kind = "doc"; });
  nextest = args: cargoDerivation ({ cargoCommands = "nextest run"; } // args // { kind = "nextest"; });
}
