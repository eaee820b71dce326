# cargo-inherit's setup hooks: plain bash functions, sourced by the
# standalone builder (../builder.sh) and wrapped by makeSetupHook for
# nixpkgs (../crane.nix). One file a job, sourced in this order (each uses
# only what the files before it define):
#
#   common.sh   settings and their defaults, the files the hooks leave for
#               each other under $NIX_BUILD_TOP, running the tool
#   vendor.sh   vendored crates at a fixed path, cargo's offline config
#   source.sh   the workspace's sources (or the deps build's skeleton)
#   cargo.sh    cargo's environment, running it, what it rebuilt and why
#   inherit.sh  laying out cargoArtifacts
#   install.sh  packing the layer, installing binaries, the report
cargoInheritHooksDir="${BASH_SOURCE[0]%/*}"
for cargoInheritHookFile in common vendor source cargo inherit install; do
  # shellcheck source=/dev/null
  source "$cargoInheritHooksDir/$cargoInheritHookFile.sh"
done
unset cargoInheritHooksDir cargoInheritHookFile
