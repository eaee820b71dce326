# Path helpers of the source filters (default.nix, tool-source.nix).
rec {
  # Build outputs and version control: never part of a source.
  ignoredNames = [ "target" "result" ".git" ];
  # A filter's path, relative to the root of the tree it filters.
  relativeTo = root: path: builtins.substring (builtins.stringLength (toString root) + 1) 1000000 (toString path);
  # rel is dir or lies below it.
  under = dir: rel: rel == dir || builtins.substring 0 (builtins.stringLength dir + 1) rel == "${dir}/";
  # A relative path without `.`, `..` or empty components ("a/./b/../c" is
  # "a/c"); null when it climbs out of the root.
  normalise = path:
    let
      step = kept: part:
        if kept == null then null
        else if part == "" || part == "." then kept
        else if part == ".." then (if kept == [ ] then null else builtins.genList (builtins.elemAt kept) (builtins.length kept - 1))
        else kept ++ [ part ];
      parts = builtins.foldl' step [ ] (builtins.filter builtins.isString (builtins.split "/" path));
    in
    if parts == null then null else builtins.concatStringsSep "/" parts;
}
