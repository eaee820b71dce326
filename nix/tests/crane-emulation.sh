# A crane derivation without crane (no nixpkgs here): the commands of its
# inheritCargoArtifacts and installCargoArtifacts hooks, in both modes.
#
# Environment:
#   cargoVendorDir, src          vendored crates and the sources
#   cargoArtifacts               optional: the crane output to inherit
#   installCargoArtifactsMode    use-zstd (crane's default for deps), use-symlink, or none
#   cargoCommands                ';'-separated cargo commands; cargoExtraArgs for each
#   denyDeps                     1: fail when a dependency compiled although inherited
#   installBins                  1: copy the profile's executables to $out/bin
#   cargoInherit                 for `cargo-inherit rebuilt` (the report only)
#   cargoInheritHooks            nix/lib/hooks/vendor.sh, for its vendored-crates config
#   craneDummy                   1: src is a dummy source (deps-only): point every
#                                package's build script at one dummy file, as
#                                crane's mkDummySrc does, so that the real build
#                                differs from it whatever the mtimes say
# Prints its report into the build log as cargo-inherit's hooks do.
set -euo pipefail
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

export HOME="$NIX_BUILD_TOP/home" CARGO_HOME="$NIX_BUILD_TOP/.cargo-home" CARGO_TARGET_DIR=target
mkdir -p "$HOME" "$CARGO_HOME"
# shellcheck source=../lib/hooks/vendor.sh
source "$cargoInheritHooks"   # for the vendored config only
cargoInheritVendorConfig "$cargoVendorDir" "$CARGO_HOME/config.toml"
cp -r --preserve=timestamps "$src" "$NIX_BUILD_TOP/source"
chmod -R u+w "$NIX_BUILD_TOP/source"
cd "$NIX_BUILD_TOP/source"
cargoArtifacts="${cargoArtifacts:-}"

if [ "${craneDummy:-0}" = 1 ]; then
  echo 'pub fn main() {}' > "$NIX_BUILD_TOP/dummy.rs"
  find . -name Cargo.toml | while read -r manifest; do
    awk -v dummy="$NIX_BUILD_TOP/dummy.rs" '
      /^\[/ { in_package = ($0 == "[package]") }
      in_package && /^build[ \t]*=/ { next }
      { print }
      $0 == "[package]" { printf "build = \"%s\"\n", dummy }' "$manifest" > "$manifest.crane"
    mv "$manifest.crane" "$manifest"
  done
fi

# crane's inheritCargoArtifacts (lib/setupHooks/inheritCargoArtifactsHook.sh).
inheritCargoArtifacts() {
  local preparedArtifacts="$1" cargoTargetDir="$2"
  if [ -d "$preparedArtifacts" ]; then
    if [ -f "$preparedArtifacts/target.tar.zst" ]; then preparedArtifacts="$preparedArtifacts/target.tar.zst"
    elif [ -d "$preparedArtifacts/target" ]; then preparedArtifacts="$preparedArtifacts/target"; fi
  fi
  mkdir -p "$cargoTargetDir"
  if [ -f "$preparedArtifacts" ]; then
    if [ -f "$preparedArtifacts.prev" ]; then
      inheritCargoArtifacts "$(readlink -f "$preparedArtifacts.prev")" "$cargoTargetDir"
    fi
    zstd -d "$preparedArtifacts" --stdout | tar -x -C "$cargoTargetDir" --strip-components=1
    rm -f "$cargoTargetDir/.crane-previous-archive"
    ln -s "$preparedArtifacts" "$cargoTargetDir/.crane-previous-archive"
  else
    rsync --recursive --links --times --chmod=u+w --executability \
      --exclude 'deps/*.rlib' --exclude 'deps/*.rmeta' --exclude '.cargo-lock' \
      "$preparedArtifacts/" "$cargoTargetDir/"
    local linkCandidates; linkCandidates=$(mktemp)
    find "$preparedArtifacts" '(' -path '*/deps/*.rlib' -or -path '*/deps/*.rmeta' ')' -printf "%P\n" > "$linkCandidates"
    xargs --no-run-if-empty -n1 dirname < "$linkCandidates" | sort -u \
      | (cd "$cargoTargetDir" && xargs --no-run-if-empty mkdir -p)
    xargs -P "${NIX_BUILD_CORES:-1}" -I '##{}##' ln -s "$preparedArtifacts/##{}##" "$cargoTargetDir/##{}##" < "$linkCandidates"
  fi
}

# crane's installCargoArtifacts (lib/setupHooks/installCargoArtifactsHook.sh).
craneTar() {
  tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@"
}
installCargoArtifacts() {
  local dir="$out" cargoTargetDir=target
  mkdir -p "$dir"
  case "$installCargoArtifactsMode" in
    use-zstd)
      if [ -z "$cargoArtifacts" ]; then
        craneTar --mode=u+w -c "$cargoTargetDir" | zstd -q "-T${NIX_BUILD_CORES:-0}" -o "$dir/target.tar.zst"
      else
        touch -d @1 "$NIX_BUILD_TOP/.crane.source-date-epoch"
        find "$cargoTargetDir" -newer "$NIX_BUILD_TOP/.crane.source-date-epoch" -print0 \
          | craneTar --null --no-recursion -c -f - -T - | zstd -q "-T${NIX_BUILD_CORES:-0}" -o "$dir/target.tar.zst"
        if [ -e "$cargoTargetDir/.crane-previous-archive" ]; then
          cp -a "$cargoTargetDir/.crane-previous-archive" "$dir/target.tar.zst.prev"
        fi
      fi ;;
    use-symlink)
      local prev=/dev/null
      if [ -n "$cargoArtifacts" ] && [ -d "$cargoArtifacts/target" ]; then prev="$cargoArtifacts/target"; fi
      if [ -d "$prev" ]; then
        while read -r full; do
          local rel="${full#"$cargoTargetDir"}"
          if cmp --silent "$prev/${rel#/}" "$full"; then ln --symbolic --force --logical "$prev/${rel#/}" "$full"; fi
        done < <(find "$cargoTargetDir" -type f)
      fi
      mv "$cargoTargetDir" --target-directory="$dir" ;;
    # crane's buildPackage by default (doInstallCargoArtifacts = false).
    none) ;;
    *) echo "unknown installCargoArtifactsMode $installCargoArtifactsMode" >&2; exit 1 ;;
  esac
}

start=$(now)
if [ -n "$cargoArtifacts" ]; then inheritCargoArtifacts "$cargoArtifacts" target; fi
inherit_seconds=$(since "$start")

start=$(now)
: > "$NIX_BUILD_TOP/cargo.json"
IFS=';' read -ra commands <<< "${cargoCommands:-build}"
for command in "${commands[@]}"; do
  # shellcheck disable=SC2086 # commands and extra args are word lists
  cargo $command --locked --offline --message-format=json-render-diagnostics ${cargoExtraArgs:-} >> "$NIX_BUILD_TOP/cargo.json"
done
cargo_seconds=$(since "$start")
"$cargoInherit/bin/cargo-inherit" rebuilt --log "$NIX_BUILD_TOP/cargo.json" --json > "$NIX_BUILD_TOP/rebuilt.json"
if [ -n "$cargoArtifacts" ] && [ "${denyDeps:-1}" = 1 ]; then
  "$cargoInherit/bin/cargo-inherit" rebuilt --log "$NIX_BUILD_TOP/cargo.json" --deny-deps > /dev/null
fi

start=$(now)
profile=debug
case " ${cargoExtraArgs:-} " in *" --release "*) profile=release ;; esac
if [ "${installBins:-0}" = 1 ]; then
  mkdir -p "$out/bin"
  find "target/$profile" -maxdepth 1 -type f -perm -u+x ! -name '*.so' -exec cp {} "$out/bin/" \;
fi
installCargoArtifacts
printf 'cargo-inherit: report {"name":"%s","inherit_seconds":%s,"cargo_seconds":%s,"install_seconds":%s,"rebuilt":%s}\n' \
  "$name" "$inherit_seconds" "$cargo_seconds" "$(since "$start")" "$(cat "$NIX_BUILD_TOP/rebuilt.json")" >&2
cp "$NIX_BUILD_TOP/rebuilt.json" "$out/rebuilt.json"
