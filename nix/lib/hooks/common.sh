# Settings the hooks read from the derivation's environment, each with its
# default here and nowhere else:
#   cargoInherit            store path holding bin/cargo-inherit and bin/cargo-inherit-rustc
#   src                     the workspace sources
#   cargoVendorDir          vendored crates (`cargo vendor` output), for cargoInheritConfigureVendor
#                           (the standalone builder; crane configures its own)
#   cargoInheritArtifacts   optional: what to inherit: an earlier cargo-inherit derivation (holding
#                           layer/) or a crane output (target.tar.zst chain, or target/); several
#                           separated by spaces, the first winning where two hold one path
#   cargoInheritStrategy    layered (pack/unpack) or symlink (pack --format plain/link)
#   cargoCommands           cargo commands separated by ';', e.g. "check;build;test --no-run"
#   cargoExtraArgs          arguments for every command, e.g. --release
#   cargoInheritSkeleton    1: the source is a skeleton (`cargo-inherit skeleton`): record its units
#                           as dummies
#   cargoInheritSkeletonFileNames  a file listing the names of src's .rs files: src holds
#                           manifests and config only (nix/lib's depsSource), the skeleton is
#                           made from both; cargoInheritSkeletonKeep: paths to keep, one a line
#   cargoInheritDenyDeps    1: fail when a dependency compiles although artifacts were inherited
#                           (either way, `cargo-inherit explain` says why in the log and in
#                           cargo-inherit-explain.txt beside the layer)
#   cargoInheritPackLayer   0: install no layer (1: into $layer/layer, the derivation's `layer`
#                           output, or $out/layer when it has none)
#   cargoInheritPruneUnused 1: leave out of the layer the dependencies' units cargo's runs here
#                           did not use (pack --prune-unused; nix/lib's deps derivations)
#   cargoInheritPackLevel   zstd level of the layer (auto: pack chooses by how much the layer
#                           stores, see `cargo-inherit pack --help`)
#   cargoInheritInstallBins 1: copy the executables cargo reported building into $out/bin, its
#                           static and dynamic libraries (staticlib, cdylib, dylib) into $out/lib
#   cargoInheritExportCrane 1: also write target.tar.zst beside the layer, for crane derivations
#   cargoInheritBorrowOut   1: the layer reads what $out holds (installed binaries) from there
#                           instead of storing it (pack --borrow; nix/lib's builder, where no
#                           fixup changes $out after the install hook)
#   cargoInheritStableVendor 0: cargo reads the vendored crates at their store path (1: through
#                           links at $NIX_BUILD_TOP/vendor, see vendor.sh)
#   cargoInheritFanOut      1: a deps build also runs its commands with `-p MEMBER` for each member
#                           whose own feature resolution differs from the workspace's, so that a
#                           later `-p MEMBER` build compiles no dependency (see cargo.sh)
#   cargoInheritSelections  more selections a deps build prepares, ';'-separated ("-p a -p b;--bin x")
#   cargoInheritUnifyFeatures 1: every selection resolves each dependency with the workspace's
#                           features: `cargo-inherit unify` adds a workspace-hack member (source.sh)
: "${cargoInheritStrategy:=layered}" "${cargoCommands:=build}" "${cargoExtraArgs:=}"
: "${cargoInheritSkeleton:=0}" "${cargoInheritDenyDeps:=0}" "${cargoInheritPackLayer:=1}"
: "${cargoInheritPruneUnused:=0}" "${cargoInheritPackLevel:=auto}" "${cargoInheritInstallBins:=0}"
: "${cargoInheritExportCrane:=0}" "${cargoInheritBorrowOut:=0}" "${cargoInheritStableVendor:=1}"
: "${cargoInheritFanOut:=1}" "${cargoInheritSelections:=}" "${cargoInheritUnifyFeatures:=0}"

# What one hook leaves for another, under $NIX_BUILD_TOP (the same path in
# every derivation): cargo's JSON messages (rebuilt, pack --prune-unused),
# its fingerprint log (explain), the units it rebuilt, and why; the members'
# sources as they were before cargo ran (pack --sources).
cargoInheritJsonLog() { echo "$NIX_BUILD_TOP/cargo.json"; }
cargoInheritFingerprintLog() { echo "$NIX_BUILD_TOP/cargo-fingerprint.log"; }
cargoInheritRebuiltFile() { echo "$NIX_BUILD_TOP/rebuilt.json"; }
cargoInheritExplainFile() { echo "$NIX_BUILD_TOP/explain.txt"; }
cargoInheritSourcesFile() { echo "$NIX_BUILD_TOP/sources.json"; }

cargoInheritNow() { date +%s.%N; }
cargoInheritSince() { awk -v a="$1" -v b="$(cargoInheritNow)" 'BEGIN { printf "%.2f", b - a }'; }
cargoInheritTool() { "$cargoInherit/bin/cargo-inherit" "$@"; }

# CARGO_LOG for cargo's fingerprint log, which `explain` reads: the tool
# says which, so that it is spelled in one place.
cargoInheritFingerprintSetting() { cargoInheritTool explain --print-cargo-log; }
