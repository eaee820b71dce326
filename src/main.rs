fn main() -> std::process::ExitCode {
    cargo_inherit::cli::run(std::env::args_os())
}
