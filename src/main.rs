//! `anova2mqtt`: see `anova2mqtt --help` and the README.

fn main() -> std::process::ExitCode {
    anova2mqtt::cli::main()
}
