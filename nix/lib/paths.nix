# Path helpers of the source filters (default.nix, tool-source.nix).
rec {
  # Build outputs and version control: never part of a source.
  ignoredNames = [ "target" "result" ".git" ];
  # A filter's path, relative to the root of the tree it filters.
  relativeTo = root: path: builtins.substring (builtins.stringLength (toString root) + 1) 1000000 (toString path);
  # rel is dir or lies below it.
  under = dir: rel: rel == dir || builtins.substring 0 (builtins.stringLength dir + 1) rel == "${dir}/";
}
