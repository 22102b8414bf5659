use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = velt_groups::cli::Cli::parse();
    velt_groups::run(cli).into()
}
