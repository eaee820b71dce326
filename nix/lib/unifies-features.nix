# Whether a derivation's cargoArtifacts were built with unified features
# (cargoInheritUnifyFeatures, nix/lib's unifyFeatures): the derivations on
# them unify too, or their units would differ. Several parents: any.
let
  one = artifacts: builtins.isAttrs artifacts && (artifacts.cargoInheritUnifyFeatures or "0") == "1";
in
artifacts:
if builtins.isList artifacts then builtins.any one artifacts else one artifacts
