# One deps derivation for a workspace of services (tests/fixtures/fanout),
# then a derivation per service selecting it with -p: each compiles only
# its own crates (denyDeps is on), though their dependencies' features
# differ per service. `unprepared` is the deps without fan-out, for the
# control; `coverage` a deps variant on the shared deps for an instrumented
# build (cargo-llvm-cov sets RUSTFLAGS=-C instrument-coverage).
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
in
{
  inherit deps unprepared coverageDeps;
  svcA = select deps "svc-a" lib.build { };
  svcB = select deps "svc-b" lib.build { };
  svcC = select deps "svc-c" lib.build { };
  common = select deps "common" lib.build { };
  clippyA = select deps "svc-a" lib.clippy { };
  testC = select deps "svc-c" lib.test { };
  testB = select deps "svc-b" lib.test { };
  unpreparedA = select unprepared "svc-a" lib.build { denyDeps = false; };
  coverageTestC = select coverageDeps "svc-c" lib.test coverage;
}
