#!/usr/bin/env bash
# Every Nix test, in real sandboxed builds: each fixture's chain
# (deps -> build -> clippy, test, doc) in both strategies, then what an
# edited member and a changed lockfile do. Prints one line per check.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

# shellcheck source=../sandbox.sh
source "$root/nix/sandbox.sh"
# shellcheck source=../json.sh
source "$root/nix/json.sh"
nix_build() { nix-build --no-out-link --quiet "${nix_sandbox[@]}" "$@"; }
vendor_of() { "$root/nix/run.sh" --print-vendor "$1"; }

cargo build -q --locked --manifest-path "$root/Cargo.toml" --bin cargo-inherit
ci="$root/target/debug/cargo-inherit"
# Bytes a layer output stores: its layer/, and build-layer/ when the build
# directory was apart.
stored() { # LAYER_OUTPUT
  local total=0 layer
  for layer in "$1/layer" "$1/build-layer"; do
    [ -e "$layer" ] || continue
    total=$(( total + $(json_at <("$ci" inspect --json "$layer") layers.0.stored_bytes) ))
  done
  echo "$total"
}
deps_of() { json_at <(report_of "$1") rebuilt.dependencies; }
members_of() { json_at <(report_of "$1") rebuilt.members; }
# The dependencies a derivation compiled, one a line, sorted.
compiled() { deps_of "$1" | tr ',' '\n' | tr -d '"' | grep -v '^$' | sort || true; }
# How many dep-info files below DIR name TEXT (a vendored crate's
# directory, NAME-VERSION): whether the crate's units are there.
dep_info_naming() { { grep -rl --include='*.d' "$2" "$1" || true; } | wc -l; } # DIR TEXT

check_chain() { # FIXTURE STRATEGY: the outputs are in $work/outputs
  local fixture="$1" strategy="$2" name="$1/$2" attr out deps_bytes
  declare -A outs
  while IFS='=' read -r attr out; do outs[$attr]=$out; done < "$work/outputs"
  for attr in build clippy test doc; do
    if [ -n "$(deps_of "${outs[$attr]}")" ]; then fail "$name $attr compiled dependencies: $(deps_of "${outs[$attr]}")"; fi
  done
  # Later layers hold only what the members add; config-patch's members
  # build a staticlib and a cdylib, each carrying std: megabytes of new
  # bytes that no bound on inherited ones fits.
  if [ "$strategy" = layered ] && [ "$fixture" != config-patch ]; then
    deps_bytes=$(stored "${outs[deps.layer]}")
    for attr in build clippy test doc; do
      local bytes limit
      bytes=$(stored "${outs[$attr.layer]}")
      limit=$(( deps_bytes / 4 > 4194304 ? deps_bytes / 4 : 4194304 ))
      if [ "$bytes" -le "$limit" ]; then pass "$name $attr layer stores $bytes bytes (deps: $deps_bytes)"
      else fail "$name $attr layer stores $bytes bytes, more than $limit (deps: $deps_bytes)"; fi
    done
  fi
  # The package is the package: no layer, no vendored sources, no chain,
  # no report (it sits beside the layer, without timings).
  local held; held=$(ls -A "${outs[build]}" | tr '\n' ' ')
  if [[ "$held" =~ ^(bin |lib )+$ ]] && [ -f "${outs[build.layer]}/cargo-inherit-report.json" ] \
    && ! grep -q seconds "${outs[build.layer]}/cargo-inherit-report.json"; then
    pass "$name package holds ${held% } only, its report is beside the layer without timings"
  else fail "$name package holds: $held; layer output: $(ls "${outs[build.layer]}" | tr '\n' ' ')"; fi
  local closure; closure=$(nix-store -qR "${outs[build]}")
  if [ "$closure" = "${outs[build]}" ]; then pass "$name package's closure is itself ($(du -sh "$closure" | cut -f1))"
  else fail "$name package's closure: $(echo "$closure" | tr '\n' ' ')"; fi
  local bin
  for bin in "${outs[build]}"/bin/*; do
    if "$bin" > /dev/null; then pass "$name runs $(basename "$bin")"; else fail "$name: $(basename "$bin") failed"; fi
  done
}

# config-patch: what its own cargo config does (see its Cargo.toml).
check_config_patch() { # STRATEGY
  local name="config-patch/$1" attr out
  declare -A outs
  while IFS='=' read -r attr out; do outs[$attr]=$out; done < "$work/outputs"
  if [ -f "${outs[build]}/lib/libffi.a" ] && [ -f "${outs[build]}/lib/libffi.so" ]; then
    pass "$name installs its static and dynamic libraries: $(ls "${outs[build]}/lib" | tr '\n' ' ')"
  else fail "$name installed no libraries: $(ls "${outs[build]}")"; fi
  local log; log=$(nix-store --read-log "${outs[test]}")
  if [[ "$log" == *"test result: ok. 1 passed"* ]] \
    && [ "$(json_at "${outs[test.layer]}/cargo-inherit-report.json" tests.passed)" = 1 ]; then
    pass "$name test output is in the build log, and the report counts 1 passed"
  else fail "$name test output: $(cat "${outs[test.layer]}/cargo-inherit-report.json")"; fi
}

declare -A layered   # FIXTURE/ATTR -> output, of the layered chains
for fixture in ${NIX_FIXTURES:-basic medium rerun-missing rerun-outdir cc-sys symlinks proc-macro-ws config-patch host-header build-dir excluded-cdylib root-path-dep}; do
  for strategy in layered symlink; do
    : > "$work/outputs"
    if CARGO_INHERIT_OUTPUTS="$work/outputs" "$root/nix/run.sh" "$root/tests/fixtures/$fixture" "$strategy" > "$work/log" 2>&1; then
      pass "$fixture/$strategy chain built, no dependency compiled after deps"
      check_chain "$fixture" "$strategy"
      if [ "$fixture" = config-patch ]; then check_config_patch "$strategy"; fi
      if [ "$strategy" = layered ]; then
        while IFS='=' read -r attr out; do layered["$fixture/$attr"]=$out; done < "$work/outputs"
      fi
    else
      tail -40 "$work/log"
      fail "$fixture/$strategy chain"
    fi
  done
done

# Outputs are the same in every build (nix-build --check builds again and
# compares): the package and clippy of the basic chain, layers included.
reproduced() { # OUTPUT
  nix-build --no-out-link --quiet --check "${nix_sandbox[@]}" "$(nix-store -q --deriver "$1")" > "$work/log" 2>&1
}
for attr in build clippy; do
  out="${layered[basic/$attr]:-}"
  if [ -z "$out" ]; then fail "basic/layered $attr was not built, cannot check it is reproducible"
  elif reproduced "$out"; then pass "basic/layered $attr builds again to the same outputs (nix-build --check)"
  else tail -5 "$work/log"; fail "basic/layered $attr is not reproducible"; fi
done
# Two packages install into one profile (no file of ours at their roots).
if [ -n "${layered[basic/build]:-}" ] && [ -n "${layered[medium/build]:-}" ] \
  && nix-env -p "$work/profile" -i "${layered[basic/build]}" "${layered[medium/build]}" > "$work/log" 2>&1; then
  pass "basic's and medium's packages install into one profile: $(ls "$work/profile/bin" | tr '\n' ' ')"
else tail -5 "$work/log"; fail "two packages do not install into one profile"; fi
# cargo-nextest runs the tests (it takes cargo's message format under its own name).
if out=$(nix_build "$root/nix/tests/pipeline.nix" --arg src "$root/tests/fixtures/config-patch" \
    --arg vendor "$(vendor_of "$root/tests/fixtures/config-patch")" --arg cargoInheritVendor "$(vendor_of "$root")" \
    --argstr pname config-patch -A nextest 2> "$work/log") && nix-store --read-log "$out" | grep -q "1 test run: 1 passed" \
  && [ -z "$(deps_of "$out")" ]; then
  pass "nextest runs config-patch's test on its build, no dependency compiled"
else tail -10 "$work/log"; fail "nextest on config-patch"; fi

# A workspace fanned out per service: one deps derivation, then a -p build
# per service that compiles no dependency (denyDeps on), in both strategies;
# without fan-out, svc-a compiles memchr and serde_json again and explain
# names the selection; an instrumented build on a deps variant compiles none.
fanout=(--arg src "$root/tests/fixtures/fanout" --arg vendor "$(vendor_of "$root/tests/fixtures/fanout")"
  --arg cargoInheritVendor "$(vendor_of "$root")")
for strategy in layered symlink; do
  built=()
  for attr in svcA svcB svcC common clippyA testB testC; do
    if out=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" --argstr strategy "$strategy" -A "$attr" 2> "$work/log") \
      && [ -z "$(deps_of "$out")" ]; then built+=("$attr")
    else tail -15 "$work/log"; fail "fanout/$strategy $attr compiled dependencies: $(deps_of "${out:-/nonexistent}" 2>&1)"; fi
  done
  if [ ${#built[@]} = 7 ]; then pass "fanout/$strategy: every -p build on one deps compiled no dependency (${built[*]})"; fi
  # The deps target holds every member's dummy binary: a package holds its own only.
  installed=()
  for svc in a b c; do
    out=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" --argstr strategy "$strategy" -A "svc${svc^}" 2> "$work/log") || true
    if [ "$(ls "${out:-/nonexistent}/bin" 2>&1)" = "svc-$svc" ] && "$out/bin/svc-$svc" > /dev/null; then installed+=("svc-$svc")
    else fail "fanout/$strategy svc-$svc package holds [$(ls "${out:-/nonexistent}/bin" 2>&1 | paste -sd' ')], not svc-$svc alone"; fi
  done
  if [ ${#installed[@]} = 3 ]; then pass "fanout/$strategy: each -p package holds its own binary only (${installed[*]})"; fi
done
if out=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" -A unpreparedA.layer 2> "$work/log") \
  && [ "$(compiled "$out" | paste -sd' ')" = "memchr serde_json" ] \
  && grep -q "selects -p svc-a" "$out/cargo-inherit-explain.txt"; then
  pass "without fan-out svc-a compiles memchr and serde_json again; explain: $(head -c 300 "$out/cargo-inherit-explain.txt")"
else tail -15 "$work/log"; fail "fanout control: compiled [$(compiled "${out:-/nonexistent}" | paste -sd' ')]; $(cat "${out:-/nonexistent}/cargo-inherit-explain.txt" 2>&1)"; fi
if out=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" -A coverageTestC 2> "$work/log") && [ -z "$(deps_of "$out")" ]; then
  pass "an instrumented test build (-C instrument-coverage) on a deps variant of the shared deps compiles no dependency"
else tail -15 "$work/log"; fail "coverage variant: compiled [$(deps_of "${out:-/nonexistent}" 2>&1)]"; fi

# Unified features: the deps build writes a workspace-hack (memchr and
# serde, whose features differ per member) and runs no -p command, so it
# stores less than the fanned-out deps; every -p build on it, and a chain
# on one of those, takes the recorded hack and compiles no dependency.
# Bytes of a layer output: what a layer stores, or a plain tree's.
held() { if [ "$strategy" = layered ]; then stored "$1"; else du -sb "$1/layer" | cut -f1; fi; }
for strategy in layered symlink; do
  built=()
  deps=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" --argstr strategy "$strategy" -A deps.layer 2> "$work/log") || true
  if unified=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" --argstr strategy "$strategy" -A unified.layer 2> "$work/log") \
    && grep -q 'package = "memchr"' "$unified/cargo-inherit-hack.toml" && grep -q 'package = "serde"' "$unified/cargo-inherit-hack.toml" \
    && [ "$(held "$unified")" -lt "$(held "$deps")" ]; then
    pass "fanout/$strategy unified deps: hack of memchr and serde, $(held "$unified") bytes against $(held "$deps") fanned out"
  else tail -15 "$work/log"; fail "fanout/$strategy unified deps: $(cat "${unified:-/nonexistent}/cargo-inherit-hack.toml" 2>&1)"; fi
  for attr in unifiedA unifiedB unifiedClippyA unifiedTestC unifiedClippyOnA; do
    if out=$(nix_build "$root/nix/tests/fanout.nix" "${fanout[@]}" --argstr strategy "$strategy" -A "$attr.layer" 2> "$work/log") \
      && [ -z "$(deps_of "$out")" ] && cmp -s "$out/cargo-inherit-hack.toml" "$unified/cargo-inherit-hack.toml"; then built+=("$attr")
    else tail -15 "$work/log"; fail "fanout/$strategy $attr on unified deps: compiled [$(deps_of "${out:-/nonexistent}" 2>&1)]"; fi
  done
  if [ ${#built[@]} = 5 ]; then pass "fanout/$strategy: every -p build on unified deps compiled no dependency (${built[*]})"; fi
done

# A failing test fails its derivation, and says why in the build log.
if "$root/nix/run.sh" "$root/tests/fixtures/failing-test" layered deps test > "$work/log" 2>&1; then
  fail "failing-test: the test derivation succeeded"
elif grep -q "MARKER-assert" "$work/log" && grep -q "test result: FAILED. 0 passed; 1 failed" "$work/log"; then
  pass "a failing test fails its derivation, its assertion message and result in the build log"
else tail -30 "$work/log"; fail "failing-test: the assertion message is not in the build log"; fi

# An edited member, and a changed lockfile.
edited="$work/edited" relocked="$work/relocked"
cp -r "$root/tests/fixtures/basic" "$edited"
sed -i 's/{} ({} bytes/edited: {} ({} bytes/' "$edited/app/src/main.rs"
cp -r "$root/tests/fixtures/basic" "$relocked"
(cd "$relocked" && cargo update -q --precise 1.0.15 -p itoa)
remanifested="$work/remanifested"
cp -r "$root/tests/fixtures/basic" "$remanifested"
printf '\n[features]\nextra = []\n' >> "$remanifested/util/Cargo.toml"
args=(--arg src "$root/tests/fixtures/basic" --arg editedSrc "$edited" --arg relockedSrc "$relocked" --arg remanifestedSrc "$remanifested"
  --arg vendor "$(vendor_of "$root/tests/fixtures/basic")" --arg relockedVendor "$(vendor_of "$relocked")"
  --arg cargoInheritVendor "$(vendor_of "$root")" --argstr pname basic)
drv_of() { nix-instantiate --eval "${nix_sandbox[@]}" "$root/nix/tests/edit.nix" "${args[@]}" -A "$1.drvPath"; }
if [ "$(drv_of deps)" = "$(drv_of editedDeps)" ]; then pass "an edited member keeps the deps derivation: $(drv_of deps)"
else fail "an edited member changed the deps derivation"; fi
if [ "$(drv_of deps)" != "$(drv_of remanifestedDeps)" ]; then pass "an edited manifest gets a new deps derivation"
else fail "an edited manifest kept the deps derivation"; fi
if [ "$(drv_of deps)" != "$(drv_of relockedDeps)" ]; then pass "a changed Cargo.lock gets a new deps derivation"
else fail "a changed Cargo.lock kept the deps derivation"; fi
out=$(nix_build "$root/nix/tests/edit.nix" "${args[@]}" -A edited 2> "$work/log") || { tail -30 "$work/log"; fail "edited build"; }
if [ -n "${out:-}" ]; then
  if [ "$(members_of "$out")" = '"app"' ] && [ -z "$(deps_of "$out")" ]; then pass "the edited member rebuilt alone"
  else fail "edited build rebuilt members [$(members_of "$out")] dependencies [$(deps_of "$out")]"; fi
  if "$out/bin/app" | grep -q "^edited: "; then pass "the edited binary runs"; else fail "the edited binary is stale"; fi
fi

# A chain through a binary cache: build's layer (and its parent by
# reference) copied to a file cache, deleted from the store, substituted
# back: the same bytes, the same tree laid out, and a derivation on it
# compiles no dependency.
tree_of() { # LAYER_OUTPUT DIR: the tree laid out, described line by line
  "$ci" unpack -q --from "$1" --target-dir "$2" > /dev/null
  (cd "$2" && find . -printf '%p %y %m %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
cache_round_trip() { # STRATEGY
  local strategy="$1" dir="$work/cache-$1"
  local cache=(--arg src "$root/tests/fixtures/basic" --arg vendor "$(vendor_of "$root/tests/fixtures/basic")"
    --arg cargoInheritVendor "$(vendor_of "$root")" --argstr strategy "$strategy")
  local layer before after nar
  layer=$(nix_build "$root/nix/tests/cache.nix" "${cache[@]}" -A build.layer) || return 1
  nar() { json_at <(nix --extra-experimental-features nix-command path-info --json "$1") 0.narHash; }
  before=$(nar "$layer")
  tree_of "$layer" "$dir/before" > "$dir.before" || return 1
  nix --extra-experimental-features nix-command copy --to "file://$dir/cache" "$layer" || return 1
  # shellcheck disable=SC2046 # the chain's paths, and whatever refers to them
  nix-store --delete $(nix-store -q --referrers-closure $(nix-store -qR "$layer")) > /dev/null 2>&1 || return 1
  if [ -e "$layer" ]; then echo "$layer is still in the store"; return 1; fi
  nix-store -r "$layer" --option substituters "file://$dir/cache" --option require-sigs false > /dev/null || return 1
  after=$(nar "$layer")
  tree_of "$layer" "$dir/after" > "$dir.after" || return 1
  if [ "$before" != "$after" ]; then echo "nar hash $before became $after"; return 1; fi
  if ! diff -q "$dir.before" "$dir.after" > /dev/null; then diff "$dir.before" "$dir.after" | head; return 1; fi
  out=$(nix_build "$root/nix/tests/cache.nix" "${cache[@]}" -A after) || return 1
  if [ -n "$(deps_of "$out")" ]; then echo "compiled dependencies: $(deps_of "$out")"; return 1; fi
  echo "$(wc -l < "$dir.after") lines of tree equal, nar $after, members [$(members_of "$out")] compiled"
}
for strategy in layered symlink; do
  if result=$(cache_round_trip "$strategy" 2> "$work/log"); then
    pass "$strategy chain through a binary cache: $result"
  else tail -20 "$work/log"; fail "$strategy chain through a binary cache: $result"; fi
done

mix=(--arg src "$root/tests/fixtures/basic" --arg vendor "$(vendor_of "$root/tests/fixtures/basic")"
  --arg cargoInheritVendor "$(vendor_of "$root")" --argstr pname basic)

# A lockfile bump (itoa 1.0.19 -> 1.0.15): the new deps built on the old
# compile itoa alone (no dependency depends on it here), leave the old
# version's units out, and the build on them compiles no dependency.
if on_deps=$(nix_build "$root/nix/tests/edit.nix" "${args[@]}" -A relockedOnDeps 2> "$work/log") \
  && on_deps_layer=$(nix_build "$root/nix/tests/edit.nix" "${args[@]}" -A relockedOnDeps.layer 2>> "$work/log") \
  && relocked_build=$(nix_build "$root/nix/tests/edit.nix" "${args[@]}" -A relockedBuild 2>> "$work/log"); then
  full=$(nix_build "$root/nix/tests/edit.nix" "${args[@]}" -A deps.layer 2> /dev/null)
  # dep-info names the sources, by their fixed vendor path with the version.
  "$ci" unpack -q --from "$on_deps_layer" --target-dir "$work/relocked-target"
  old_units=$(dep_info_naming "$work/relocked-target" itoa-1.0.19)
  new_units=$(dep_info_naming "$work/relocked-target" itoa-1.0.15)
  if [ "$(deps_of "$on_deps")" = '"itoa"' ] && [ -z "$(deps_of "$relocked_build")" ] \
    && [ "$old_units" = 0 ] && [ "$new_units" -gt 0 ] && "$relocked_build/bin/app" > /dev/null; then
    pass "a bumped lockfile's deps on the old deps compiled [$(deps_of "$on_deps")], stored $(stored "$on_deps_layer") bytes (from scratch: $(stored "$full")), the old itoa pruned; its build compiled no dependency"
  else
    fail "deps on deps: compiled [$(deps_of "$on_deps")], its build compiled [$(deps_of "$relocked_build")], dep-info of itoa 1.0.19: $old_units, of 1.0.15: $new_units"
  fi
else tail -30 "$work/log"; fail "a bumped lockfile's deps on the old deps did not build"; fi

# More changes to the dependencies, each built on the deps before: exactly
# the changed crates and their dependents compile, and a removed crate's
# units are left out.
bump_case() { # NAME FIXTURE EXPECTED COMMAND...: EXPECTED the crates to compile, sorted
  local name="$1" fixture="$2" expected="$3" dir out layer
  dir="$(mktemp -d "$work/bump-XXXX")/$fixture"
  shift 3
  cp -r "$root/tests/fixtures/$fixture" "$dir"
  if ! (cd "$dir" && "$@") > "$work/log" 2>&1; then tail -5 "$work/log"; fail "$name: the change itself failed"; return; fi
  local bump=(--arg src "$root/tests/fixtures/$fixture" --arg vendor "$(vendor_of "$root/tests/fixtures/$fixture")"
    --arg changedSrc "$dir" --arg changedVendor "$(vendor_of "$dir")" --argstr pname "$fixture"
    --arg cargoInheritVendor "$(vendor_of "$root")")
  if ! out=$(nix_build "$root/nix/tests/bumps.nix" "${bump[@]}" -A onBefore 2> "$work/log") \
    || ! layer=$(nix_build "$root/nix/tests/bumps.nix" "${bump[@]}" -A onBefore.layer 2> /dev/null); then
    tail -20 "$work/log"; fail "$name: the deps did not build"; return
  fi
  "$ci" unpack -q --from "$layer" --target-dir "$dir.target"
  local gone; gone=$(dep_info_naming "$dir.target" "/vendor/itoa-")
  local compiled; compiled=$(compiled "$out" | paste -sd' ')
  if [ "$compiled" != "$expected" ]; then fail "$name: compiled [$compiled], expected [$expected]"
  elif [ -z "$expected" ] && [ "$gone" != 0 ]; then fail "$name: $gone dep-info files of itoa are left"
  else pass "$name: the deps on the deps before compiled [$compiled]"; fi
}
bump_case "a -sys crate bumped (zstd-sys 2.1.3 -> 2.1.2, a C build)" medium "zstd zstd-safe zstd-sys" \
  cargo update -q -p zstd-sys --precise 2.1.2+zstd.1.5.7
bump_case "a dependency added (ryu)" basic "ryu" cargo add -q -p util ryu@1
# Nothing to compile; the removed crate's units left out (no dep-info names it).
bump_case "a dependency removed (itoa)" basic "" sh -c 'cargo remove -q -p app itoa && cargo remove -q -p util itoa'

# Project B's deps on project A's deps, and on two parents at once: each
# compiles only what its parents lack (from scratch medium compiles all of
# its dependencies); the build on them compiles none.
parents=(--arg fixtures "$root/tests/fixtures" --arg cargoInheritVendor "$(vendor_of "$root")"
  --arg vendors "{ basic = $(vendor_of "$root/tests/fixtures/basic"); cc-sys = $(vendor_of "$root/tests/fixtures/cc-sys"); medium = $(vendor_of "$root/tests/fixtures/medium"); }")
if on_basic=$(nix_build "$root/nix/tests/parents.nix" "${parents[@]}" -A onBasic 2> "$work/log") \
  && on_both=$(nix_build "$root/nix/tests/parents.nix" "${parents[@]}" -A onBoth 2>> "$work/log") \
  && on_both_build=$(nix_build "$root/nix/tests/parents.nix" "${parents[@]}" -A build 2>> "$work/log"); then
  # Crates basic (itoa, serde_core, unicode-ident) and cc-sys (shlex,
  # find-msvc-tools) build with medium's very features and dependencies.
  from_a=$(compiled "$on_basic" | grep -cxE 'itoa|serde_core|unicode-ident|shlex|find-msvc-tools' || true)
  from_both=$(compiled "$on_both" | grep -cxE 'itoa|serde_core|unicode-ident|shlex|find-msvc-tools' || true)
  only_in_both=$(comm -13 <(compiled "$on_basic") <(compiled "$on_both") | wc -l)
  if [ "$(compiled "$on_basic" | grep -cxE 'shlex|find-msvc-tools')" = 2 ] && [ "$from_a" = 2 ] \
    && [ "$from_both" = 0 ] && [ "$only_in_both" = 0 ] && [ -z "$(deps_of "$on_both_build")" ]; then
    pass "medium's deps on basic's compiled $(compiled "$on_basic" | wc -l) crates, on basic's and cc-sys's $(compiled "$on_both" | wc -l) (not shlex, find-msvc-tools); its build compiled none"
  else
    fail "deps on other projects' deps: on basic [$(deps_of "$on_basic")], on both [$(deps_of "$on_both")], build [$(deps_of "$on_both_build")]"
  fi
else tail -30 "$work/log"; fail "deps on other projects' deps did not build"; fi

# The stdenv setup hook (what makeSetupHook installs), run the way stdenv
# runs hook arrays, with cargo run between them as crane does; it inherits
# a build layer of the crane mix (vendored crates at their store path, as
# crane's config has them) and must compile no dependency.
# Environment: STDENV_VENDOR (the vendored crates, default: those the
# inherited layer was built with), STDENV_STABLE (cargoInheritStableVendor,
# default 0: the crane-mix layers read crates at their store path),
# STDENV_OUT (default TOP/out).
stdenv_hook() { # LAYER_OUTPUT (or "") TOP [RUSTFLAGS]
  local build="$1" top="$2" rustflags="${3:-}"
  local tool vendor="${STDENV_VENDOR:-}" out="${STDENV_OUT:-$2/out}"
  tool=$(nix_build "$root/nix/tests/pipeline.nix" "${mix[@]}" -A cargoInherit 2> /dev/null)
  [ -n "$vendor" ] || vendor=$(nix-store -q --binding cargoVendorDir "$(nix-store -q --deriver "$build")")
  mkdir -p "$out"
  rm -rf "$top/source"
  cp -r "$root/tests/fixtures/basic" "$top/source"
  find "$top/source" -exec touch -h -d @1 {} +
  sed -e "s|@hooks@|$root/nix/lib/hooks|" -e "s|@cargoInherit@|$tool|" "$root/nix/lib/setup-hook.sh" > "$top/hook.sh"
  (
    # As stdenv runs: errexit on, and the toolchain's own cargo (here the
    # rustup proxy would look for its settings in the build's HOME).
    set -euo pipefail
    export PATH="$(rustc --print sysroot)/bin:$PATH"
    export NIX_BUILD_TOP="$top" out="$out" name=stdenv-hook
    if [ -n "$build" ]; then export cargoInheritArtifacts="$build"; fi
    export cargoInheritPackLevel=19 cargoInheritStableVendor="${STDENV_STABLE:-0}"
    export CARGO_HOME="$top/.cargo-home" cargoVendorDir="$vendor"
    if [ -n "$rustflags" ]; then export RUSTFLAGS="$rustflags"; fi
    postPatchHooks=() preBuildHooks=() postInstallHooks=()
    # shellcheck source=/dev/null
    source "$top/hook.sh"
    # crane vendors itself, into its cargo home, by the crates' store path
    # (its cargoVendorDir, in its own layout, is not for the hooks).
    mkdir -p "$CARGO_HOME"
    cargoInheritVendorConfig "$vendor" "$CARGO_HOME/config.toml"
    cd "$top/source"
    for hook in "${postPatchHooks[@]}" "${preBuildHooks[@]}"; do "$hook"; done
    cargo build --offline --locked --message-format=json > "$top/cargo.json"
    for hook in "${postInstallHooks[@]}"; do "$hook"; done
  )
}
if build=$(nix_build "$root/nix/tests/crane-mix.nix" "${mix[@]}" -A ours.layer 2> /dev/null) \
  && stdenv_hook "$build" "$work/stdenv" > "$work/log" 2>&1; then
  deps=$("$ci" rebuilt --log "$work/stdenv/cargo.json" --workspace "$work/stdenv/source" --json)
  if [ -f "$work/stdenv/out/layer/manifest.json" ] && [ -z "$(json_at <(echo "$deps") dependencies)" ]; then
    pass "the stdenv setup hook inherits and packs: $deps"
  else fail "stdenv setup hook: $deps"; fi
  # Packing is deterministic: the same tree packed again at the level asked
  # for gives the same bytes, at the default level other bytes.
  repack() { "$ci" pack -q --level "$1" --target-dir "$work/stdenv/source/target" --parent "$build/layer" --out "$work/level-$1"; }
  if repack 19 && repack 1 && cmp -s "$work/level-19/blobs.zst" "$work/stdenv/out/layer/blobs.zst" \
    && ! cmp -s "$work/level-1/blobs.zst" "$work/stdenv/out/layer/blobs.zst"; then
    pass "cargoInheritPackLevel=19 packs at level 19 ($(stat -c %s "$work/level-19/blobs.zst") bytes, level 1: $(stat -c %s "$work/level-1/blobs.zst"))"
  else fail "cargoInheritPackLevel=19 was not the level the hook packed at"; fi
else
  tail -20 "$work/log"; fail "stdenv setup hook"
fi
# crane names its vendored crates by store path, which a new lockfile
# moves: the hook points cargo at fixed links instead. Built once, then
# again on that layer with the same crates at another store path: nothing
# compiles (the fingerprints hold the fixed path).
moved="$work/vendor-moved"
cp -r "$(nix-store -q --binding cargoVendorDir "$(nix-store -q --deriver "$build")")" "$moved"
if moved=$(nix-store --add "$moved") \
  && STDENV_STABLE=1 STDENV_VENDOR="$(vendor_of "$root/tests/fixtures/basic" | cut -d'"' -f2)" STDENV_OUT="$work/stdenv-stable/first" \
    stdenv_hook "" "$work/stdenv-stable" > "$work/log" 2>&1 \
  && STDENV_STABLE=1 STDENV_VENDOR="$moved" STDENV_OUT="$work/stdenv-stable/second" \
    stdenv_hook "$work/stdenv-stable/first" "$work/stdenv-stable" > "$work/log" 2>&1; then
  deps=$("$ci" rebuilt --log "$work/stdenv-stable/cargo.json" --workspace "$work/stdenv-stable/source" --json)
  if grep -q "directory = \"$work/stdenv-stable/vendor/vendored\"" "$work/stdenv-stable/.cargo-home/config.toml" \
    && [ -z "$(json_at <(echo "$deps") dependencies)" ]; then
    pass "the stdenv hook gives crane's vendored crates a fixed path: moved to $moved, nothing compiled ($deps)"
  else fail "crane's vendored crates moved: $deps; $(cat "$work/stdenv-stable/.cargo-home/config.toml")"; fi
else tail -20 "$work/log"; fail "the stdenv hook with crane's vendored crates moved"; fi

# crane runs cargo itself: the hook still says why dependencies compiled.
if stdenv_hook "$build" "$work/stdenv-skewed" "--cfg explain_test" > "$work/log" 2>&1 \
  && grep -q "RUSTFLAGS differ" "$work/log" && grep -q "RUSTFLAGS differ" "$work/stdenv-skewed/out/cargo-inherit-explain.txt" \
  && ! grep -q "fingerprint" "$work/log"; then
  pass "the stdenv setup hook explains a dependency rebuild: $(head -c 150 "$work/stdenv-skewed/out/cargo-inherit-explain.txt")"
else tail -20 "$work/log"; fail "the stdenv setup hook did not explain the rebuild"; fi

# One chain mixing crane (emulated with its own commands) and cargo-inherit.
if ours=$(nix_build "$root/nix/tests/crane-mix.nix" "${mix[@]}" -A ours 2> /dev/null) \
  && ours_layer=$(nix_build "$root/nix/tests/crane-mix.nix" "${mix[@]}" -A ours.layer 2> /dev/null); then
  if [ -z "$(deps_of "$ours")" ] && "$ours/bin/app" | grep -q "hello from the real util"; then
    pass "cargo-inherit builds on crane's deps archive: members [$(members_of "$ours")], no dependency"
  else fail "on crane's archive: members [$(members_of "$ours")] dependencies [$(deps_of "$ours")]"; fi
  crane_deps=$(nix_build "$root/nix/tests/crane-mix.nix" "${mix[@]}" -A craneDeps 2> /dev/null)
  crane_bytes=$(stat -c %s "$crane_deps/target.tar.zst")
  # It reads the dependencies from crane's archive and its binary from its own $out (pack --borrow).
  if "$ci" inspect --json "$ours_layer/layer" | tr -d ' \n' | grep -qF "\"foreign_parents\":[\"$crane_deps\",\"$ours\"]" \
    && [ "$(stored "$ours_layer")" -le $((crane_bytes / 4)) ]; then
    pass "its layer reads from crane's archive and its own \$out, and stores $(stored "$ours_layer") bytes (crane's: $crane_bytes)"
  else fail "its layer stores $(stored "$ours_layer") bytes on crane's $crane_bytes: $("$ci" inspect "$ours_layer/layer")"; fi
else fail "cargo-inherit on crane's deps archive did not build"; fi
if crane_build=$(nix_build "$root/nix/tests/crane-mix.nix" "${mix[@]}" -A craneBuild 2> /dev/null); then
  pass "crane builds on cargo-inherit's export: $(cat "$crane_build/rebuilt.json")"
else fail "crane on cargo-inherit's export compiled dependencies or failed"; fi

# Dependencies rebuilt in spite of inherited artifacts: the log says why.
if out=$(nix_build "$root/nix/tests/explain.nix" "${mix[@]}" -A tolerated.layer 2> /dev/null) \
  && grep -q "RUSTFLAGS differ" "$out/cargo-inherit-explain.txt"; then
  pass "explain says why dependencies rebuilt: $(head -c 200 "$out/cargo-inherit-explain.txt")"
else fail "explain in a tolerated rebuild: $(cat "${out:-/nonexistent}/cargo-inherit-explain.txt" 2>&1)"; fi
if nix_build "$root/nix/tests/explain.nix" "${mix[@]}" -A denied > "$work/denied.log" 2>&1; then
  fail "a build that rebuilt dependencies was not denied"
elif grep -q "RUSTFLAGS differ" "$work/denied.log" && grep -q "dependency units were rebuilt" "$work/denied.log"; then
  pass "denyDeps fails the build, saying why"
else tail -20 "$work/denied.log"; fail "denyDeps failed without saying why"; fi

# The nixpkgs/crane entry point, evaluated against stand-ins (no nixpkgs here).
# --read-write-mode: the tool's filtered source is added to the store, to look into.
crane_eval() { nix-instantiate --eval --read-write-mode "$root/nix/tests/crane-eval.nix" 2>&1; }
if [ "$(crane_eval)" = '"ok"' ]; then pass "crane.nix overrides crane's mkCargoDerivation, as crane's builders use it"
else fail "crane.nix: $(crane_eval | tail -1)"; fi

# The flake: no inputs to fetch, cargo-inherit built from crates fetched by
# its own Cargo.lock, and checks that build the basic chain.
if nix --extra-experimental-features 'nix-command flakes' flake check "${nix_sandbox[@]}" "$root" > "$work/log" 2>&1; then
  pass "nix flake check builds the basic chain (deps, build, clippy, test, doc)"
else tail -20 "$work/log"; fail "nix flake check"; fi

echo "nix: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
