# Laying out what cargoArtifacts holds, before cargo runs.

cargoInheritInherit() {
  cargoInheritInheritSeconds=0
  [ -n "${cargoInheritArtifacts:-}" ] || return 0
  cargoInheritSource="$PWD"
  local start verb; start=$(cargoInheritNow)
  case "$cargoInheritStrategy" in
    layered) verb=unpack ;;
    # link unpacks what holds no tree to link to (a layer, crane's archives).
    symlink) verb=link ;;
    *) echo "cargo-inherit: unknown cargoInheritStrategy '$cargoInheritStrategy'" >&2; return 1 ;;
  esac
  cargoInheritFindBuildDir
  # Several artifacts (cargoArtifacts a list: two projects' deps, a shared
  # base) are laid out one over the other, the first last: where two hold
  # the same path, the first one's is kept. --workspace: members edited
  # since those artifacts (or built from dummy sources, for crane's) are
  # rebuilt, though their sources have the store's mtime 1 like everything else.
  local all i
  read -ra all <<< "$cargoInheritArtifacts"
  for (( i = ${#all[@]} - 1; i >= 0; i-- )); do
    cargoInheritTool "$verb" --from "${all[i]}" --target-dir "$CARGO_TARGET_DIR" --workspace .
    [ -e "${all[i]}/build-layer" ] || continue
    if [ -z "$cargoInheritBuildDir" ]; then
      echo "cargo-inherit: ${all[i]} was built with cargo's build-dir apart from target/ (it holds build-layer/), this build has none: set the same build.build-dir (or CARGO_BUILD_BUILD_DIR) in every derivation of the chain" >&2
      return 1
    fi
    cargoInheritTool "$verb" --from "${all[i]}/build-layer" --target-dir "$cargoInheritBuildDir" --workspace .
  done
  cargoInheritInheritSeconds=$(cargoInheritSince "$start")
}
