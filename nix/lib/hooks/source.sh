# The sources cargo builds: the workspace as it is, or, for the deps build,
# its skeleton (cargo-inherit skeleton).

cargoInheritPrepareSource() {
  local dest="$NIX_BUILD_TOP/source"
  if [ -n "${cargoInheritSkeletonFileNames:-}" ]; then
    cargoInheritMakeSkeleton "$dest"
  else
    # Sources keep the store's mtime 1, like the artifacts they meet.
    cp -r --preserve=timestamps "$src" "$dest"
    chmod -R u+w "$dest"
  fi
  cd "$dest"
}

# The skeleton of $src (nix/lib's depsSource: manifests and the like, and
# the file names in $cargoInheritSkeletonFileNames) at DEST, with the
# store's mtime 1 like every other source. Needs the vendored crates'
# config (cargoInheritConfigureVendor): cargo metadata resolves the workspace.
cargoInheritMakeSkeleton() { # DEST
  local keep=() path
  while IFS= read -r path; do
    if [ -n "$path" ]; then keep+=(--keep "$path"); fi
  done <<< "${cargoInheritSkeletonKeep:-}"
  cargoInheritTool skeleton "$src" "$1" --file-names "$cargoInheritSkeletonFileNames" "${keep[@]}"
  find "$1" -exec touch -h -d @1 {} +
}

# With cargoInheritUnifyFeatures=1, a workspace-hack member that every
# member depends on makes each selection (-p svc) resolve its dependencies
# with the whole workspace's features (`cargo-inherit unify`). The deps
# build finds it and records it beside its layer; the derivations on it
# take that one (the same manifests, so the same units) rather than spend
# seconds of cargo tree finding it again. Needs the vendored crates'
# config: cargo tree and cargo update run offline.
cargoInheritUnify() {
  [ "$cargoInheritUnifyFeatures" = 1 ] || return 0
  local like=() parents="${cargoInheritArtifacts:-}" parent
  # A deps build finds its own: its artifacts may be deps of another
  # lockfile (a bump), whose hack names versions this one has not.
  if [ "$cargoInheritSkeleton" = 1 ] || [ -n "${cargoInheritDepsCommands:-}" ]; then parents=""; fi
  for parent in $parents; do
    if [ -f "$parent/cargo-inherit-hack.toml" ]; then
      like=(--like "$parent/cargo-inherit-hack.toml")
      break
    fi
  done
  # shellcheck disable=SC2086 # extra args are a word list
  cargoInheritTool unify --workspace "$(cargoInheritSourceDir)" "${like[@]}" -- $cargoExtraArgs
}

# The hack unify wrote, when it wrote one, for cargoInheritUnify to find
# beside this derivation's layer.
cargoInheritRecordHack() { # HOME
  local hack; hack="$(cargoInheritSourceDir)/cargo-inherit-hack/Cargo.toml"
  if [ "$cargoInheritUnifyFeatures" = 1 ] && [ -f "$hack" ]; then cp "$hack" "$1/cargo-inherit-hack.toml"; fi
}

# The workspace being built: where the inherit and install hooks run.
cargoInheritSourceDir() { echo "${cargoInheritSource:-$PWD}"; }

# The members' source hashes as they are before cargo runs, for the layer
# to record: builders leave files in the sources (crane's build log, with a
# random name) that are no source and that no other build has.
cargoInheritRecordSources() {
  [ "$cargoInheritSkeleton" = 1 ] && return 0
  cargoInheritTool sources --workspace "$(cargoInheritSourceDir)" --out "$(cargoInheritSourcesFile)"
}
