# What a derivation of a chain inherits from, given its cargoArtifacts: a
# cargo-inherit derivation's `layer` output (standalone or crane's
# buildPackage), or anything else as it is (a crane output, a path).
artifacts:
if builtins.isAttrs artifacts && artifacts ? layer then artifacts.layer else artifacts
