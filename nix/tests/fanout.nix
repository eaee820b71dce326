# One deps derivation for a workspace of services (tests/fixtures/fanout),
# then a derivation per service selecting it with -p: each compiles only
# its own crates (denyDeps is on), though their dependencies' features
# differ per service. `unprepared` is the deps without fan-out, for the
# control; `coverage` a deps variant on the shared deps for an instrumented
# build (cargo-llvm-cov sets RUSTFLAGS=-C instrument-coverage). `unified`
# is the deps with unified features: the union's units only, and each -p
# build on it (unifying too, as it inherits) compiles no dependency.
{ src
, vendor
, cargoInheritVendor ? null
, cargoInherit ? null
, strategy ? "layered"
}:
let
  lib = import ../lib { inherit cargoInheritVendor cargoInherit; };
  common = { pname = "fanout"; inherit src strategy; cargoVendorDir = vendor; cargoExtraArgs = "--release"; };
  deps = lib.depsOnly common;
  select = artifacts: service: builder: extra:
    builder (common // { cargoArtifacts = artifacts; cargoExtraArgs = "--release -p ${service}"; } // extra);
  unprepared = lib.depsOnly (common // { fanOut = false; });
  coverage = { env.RUSTFLAGS = "-C instrument-coverage"; };
  coverageDeps = lib.depsOnly (common // coverage // { cargoArtifacts = deps; });
  unified = lib.depsOnly (common // { unifyFeatures = true; });
in
{
  inherit deps unprepared coverageDeps unified;
  svcA = select deps "svc-a" lib.build { };
  svcB = select deps "svc-b" lib.build { };
  svcC = select deps "svc-c" lib.build { };
  common = select deps "common" lib.build { };
  clippyA = select deps "svc-a" lib.clippy { };
  testC = select deps "svc-c" lib.test { };
  testB = select deps "svc-b" lib.test { };
  unpreparedA = select unprepared "svc-a" lib.build { denyDeps = false; };
  coverageTestC = select coverageDeps "svc-c" lib.test coverage;
  unifiedA = select unified "svc-a" lib.build { };
  unifiedB = select unified "svc-b" lib.build { };
  unifiedClippyA = select unified "svc-a" lib.clippy { };
  unifiedTestC = select unified "svc-c" lib.test { };
  # A chain on a unified build: the clippy takes the hack recorded beside
  # the build's layer.
  unifiedClippyOnA = select (select unified "svc-a" lib.build { }) "svc-a" lib.clippy { };
}
