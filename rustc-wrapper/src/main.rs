fn main() -> std::process::ExitCode {
    cargo_inherit_rustc::run(std::env::args_os().skip(1).collect())
}
