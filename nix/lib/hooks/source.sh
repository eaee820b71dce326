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

# The workspace being built: where the inherit and install hooks run.
cargoInheritSourceDir() { echo "${cargoInheritSource:-$PWD}"; }

# The members' source hashes as they are before cargo runs, for the layer
# to record: builders leave files in the sources (crane's build log, with a
# random name) that are no source and that no other build has.
cargoInheritRecordSources() {
  [ "$cargoInheritSkeleton" = 1 ] && return 0
  cargoInheritTool sources --workspace "$(cargoInheritSourceDir)" --out "$(cargoInheritSourcesFile)"
}
