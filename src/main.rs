use std::process::ExitCode;

use velt_groups::read::isolate;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == isolate::ARG) {
        let rest: Vec<String> = args[2..].iter().map(|a| a.to_string_lossy().into_owned()).collect();
        return isolate::child_main(&rest);
    }
    // On Linux the reader child is /proc/self/exe: this very binary even if its file was
    // replaced or removed meanwhile (an upgrade during a nightly run), and no PATH needed.
    let own = std::path::Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && own.exists() {
        isolate::enable(own.to_path_buf());
    } else if let Ok(exe) = std::env::current_exe() {
        isolate::enable(exe);
    }
    velt_groups::run(args).into()
}
