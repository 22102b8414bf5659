use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match velt_groups::config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        // clap prints help, version and usage errors itself; usage errors exit 2 as ours do.
        Err(e) => e.exit(),
    };
    velt_groups::run(cli).into()
}
