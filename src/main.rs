use std::process::ExitCode;

use velt_groups::read::isolate;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(isolate::ARG) {
        return isolate::child_main(&args[2..]);
    }
    if let Ok(exe) = std::env::current_exe() {
        isolate::enable(exe);
    }
    let cli = match velt_groups::config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        // clap prints help, version and usage errors itself; usage errors exit 2 as ours do.
        Err(e) => e.exit(),
    };
    velt_groups::run(cli).into()
}
