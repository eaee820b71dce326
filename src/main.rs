fn main() -> std::process::ExitCode {
    cargo_inherit::run(std::env::args_os())
}
