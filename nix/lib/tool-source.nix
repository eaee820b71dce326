# cargo-inherit's own sources, for both entry points to build it from: the
# workspace manifests and the two crates, nothing else of the checkout (no
# target/, tests or benches), so that only an edit to those changes the
# tool and, with it, every derivation built with it.
let
  inherit (import ./paths.nix) ignoredNames relativeTo under;
in
builtins.path {
  name = "cargo-inherit-source";
  path = ../..;
  filter = path: type:
    !(builtins.elem (baseNameOf path) ignoredNames)
    && builtins.any (dir: under dir (relativeTo ../.. path)) [ "Cargo.toml" "Cargo.lock" "src" "rustc-wrapper" ];
}
