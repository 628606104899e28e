//! The `burstscope` binary: everything lives in `burstscope-cli`.

fn main() -> std::process::ExitCode {
    burstscope_cli::main()
}
