# What a derivation of a chain inherits from, given its cargoArtifacts: a
# cargo-inherit derivation's `layer` output (standalone or crane's
# buildPackage), or anything else as it is (a crane output, a path). A list
# (several parents: two projects' deps, a shared base) becomes their paths
# separated by spaces, for the hooks.
let
  one = artifacts:
    if builtins.isAttrs artifacts && artifacts ? layer then artifacts.layer else artifacts;
in
artifacts:
if builtins.isList artifacts then builtins.concatStringsSep " " (map (a: "${one a}") artifacts)
else one artifacts
