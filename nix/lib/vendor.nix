# The crates.io packages of a Cargo.lock as a vendored directory, without
# `cargo vendor` and without import from derivation: the lockfile is read
# at evaluation time, each crate is fetched by the checksum the lockfile
# records (a fixed-output fetch: network at build time, no hash to keep by
# hand), and one derivation unpacks them as `cargo vendor --versioned-dirs`
# lays them out. Git dependencies are not supported: vendor those with
# `cargo vendor` and pass the directory as cargoVendorDir.
{ system, PATH }:
lockFile:
let
  lock = builtins.fromTOML (builtins.readFile lockFile);
  registry = "registry+https://github.com/rust-lang/crates.io-index";
  fromCratesIo = package: (package.source or null) == registry;
  unsupported = builtins.filter (p: p ? source && !(fromCratesIo p)) (lock.package or [ ]);
  crate = package: import <nix/fetchurl.nix> {
    name = "${package.name}-${package.version}.crate";
    # crates.io's download host, as its index names it (cargo fetches there too).
    url = "https://static.crates.io/crates/${package.name}/${package.name}-${package.version}.crate";
    sha256 = package.checksum;
  };
  crates = builtins.filter fromCratesIo (lock.package or [ ]);
in
if unsupported != [ ] then
  throw "nix/lib vendor: ${toString lockFile}: ${(builtins.head unsupported).name} comes from ${(builtins.head unsupported).source}; only crates.io packages can be vendored from a lockfile (vendor the others with `cargo vendor` and give cargoVendorDir)"
else
  derivation {
    name = "vendored-crates";
    inherit system PATH;
    builder = "/bin/bash";
    # One line per crate: NAME-VERSION CHECKSUM ARCHIVE.
    crates = builtins.concatStringsSep "\n"
      (map (p: "${p.name}-${p.version} ${p.checksum} ${crate p}") crates);
    args = [ "-c" ''
      set -euo pipefail
      mkdir -p "$out"
      while read -r dir checksum archive; do
        [ -n "$dir" ] || continue
        mkdir "$out/$dir"
        tar -xzf "$archive" -C "$out/$dir" --strip-components=1
        printf '{"files":{},"package":"%s"}' "$checksum" > "$out/$dir/.cargo-checksum.json"
      done <<< "$crates"
    '' ];
  }
