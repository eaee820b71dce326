{
  description = "cargo-inherit: Rust builds in Nix that inherit their dependencies' artifacts";

  # No inputs: the standalone functions need only Nix and a host toolchain
  # exposed through sandbox-paths (see the README); the overlay takes
  # nixpkgs (and crane) from whoever applies it.
  outputs = { self }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      mkLib = args: import ./nix/lib args;
    in
    {
      # lib.mkLib { system; toolchain ? "/rust"; ... } or lib.<system>: the
      # standalone functions (depsOnly, build, clippy, test, doc, nextest,
      # vendorCargoLock, ...), cargo-inherit built from this flake.
      lib = { inherit mkLib; } // forAllSystems (system: mkLib { inherit system; });

      packages = forAllSystems (system: { default = self.lib.${system}.cargoInherit; });

      # cargo-inherit built with rustPlatform, and the crane override:
      #   craneLib' = pkgs.cargoInheritCrane.overrideCrane craneLib { };
      overlays.default = final: prev:
        let crane = final.callPackage ./nix/lib/crane.nix { };
        in { cargo-inherit = crane.cargoInherit; cargoInheritCrane = crane; };

      # The basic fixture's chain: deps -> build -> clippy, test, doc.
      checks = forAllSystems (system:
        let
          lib = self.lib.${system};
          common = {
            pname = "basic";
            src = ./tests/fixtures/basic;
            cargoVendorDir = lib.vendorCargoLock ./tests/fixtures/basic/Cargo.lock;
          };
          deps = lib.depsOnly common;
          build = lib.build (common // { cargoArtifacts = deps; });
          on = f: f (common // { cargoArtifacts = build; });
        in
        {
          inherit deps build;
          clippy = on lib.clippy;
          test = on lib.test;
          doc = on lib.doc;
        });
    };
}
