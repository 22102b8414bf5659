//! `velt-groups ui`: a local web page for the person handed a spreadsheet. It is served on
//! 127.0.0.1 only, behind a random token checked on every request (with the Host header, against
//! DNS rebinding), and is a thin layer over the pipeline: files picked on the page are copied
//! into a private temporary folder and go through the same `input`, `cmd::import` and `report`
//! code as the command line. One file per route; the page itself is plain HTML, CSS and JS
//! from `assets/`, compiled into the binary.

mod app;
mod check;
mod files;
mod folder;
mod guard;
mod job;
mod outcome;
mod page;
mod view;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post, put};
use axum::{middleware, Router};

use crate::console;
use crate::error::{Error, Exit};
use crate::settings::UiSettings;
use app::App;

/// How long an import stopped by a signal may take to record its answers and write its report.
const REPORT_PATIENCE: Duration = Duration::from_secs(20);

/// How long the connections still open at the end may take to finish: a client that sends
/// half a request and waits must not keep the server (and the HR files) alive.
const CLOSE_PATIENCE: Duration = Duration::from_secs(2);

/// Runs `ui` until Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT).
pub fn run(settings: &UiSettings) -> Result<Exit, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let exit = runtime.block_on(serve(settings.clone()));
    // A check still reading a large file must not hold the exit.
    runtime.shutdown_timeout(CLOSE_PATIENCE);
    exit
}

async fn serve(settings: UiSettings) -> Result<Exit, Error> {
    // Loopback only: the page can send to Velt with the operator's credentials.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, settings.port))
        .await
        .map_err(Error::Serve)?;
    let port = listener.local_addr().map_err(Error::Serve)?.port();
    let open = settings.open;
    let app = Arc::new(App::new(settings, port).map_err(Error::Serve)?);
    let dir = app.dir.path().to_owned();
    // Listening for Ctrl-C before the address is out, so an early one still stops it cleanly.
    let stop = stop_signal()?;
    let url = format!("http://127.0.0.1:{port}/?token={}", app.token);
    console::ui_address(&url);
    if open {
        // The browser gets a private file that leads to the address, never the address
        // itself: a command line (and the token in it) is readable by every local user.
        let opened = redirect_file(app.dir.path(), &url);
        // xdg-open may take its time; the page is served meanwhile.
        tokio::task::spawn_blocking(move || match opened {
            Ok(file) => {
                if let Err(e) = opener::open_browser(&file) {
                    console::browser_failed(e);
                }
            }
            Err(e) => console::browser_failed(e),
        });
    }
    let (closing, closed) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router(Arc::clone(&app))).with_graceful_shutdown(async move {
        let mut closed = closed;
        let _ = closed.wait_for(|c| *c).await;
    });
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        () = stop => {}
        ended = &mut server => {
            // The server stopped serving by itself: say why, and clean up all the same.
            let _ = std::fs::remove_dir_all(&dir);
            return match ended {
                Ok(Err(e)) => Err(Error::Serve(e)),
                Ok(Ok(())) => Ok(Exit::Success),
                Err(e) => Err(Error::Serve(std::io::Error::other(e))),
            };
        }
    }
    // An import under way stops as `import` stops on Ctrl-C: what the server confirmed is
    // recorded and the report written; it is then kept where `import` writes its reports.
    let mut exit = Exit::Success;
    if let Some(job) = app.running().filter(|j| j.sends()) {
        job.interrupt();
        job.ended(REPORT_PATIENCE).await;
        let cwd = std::env::current_dir().unwrap_or_default();
        let kept = job::keep_reports(&job, &cwd);
        console::ui_interrupted(&kept);
        exit = Exit::Incomplete;
    }
    let _ = closing.send(true);
    if let Ok(Ok(Err(e))) = tokio::time::timeout(CLOSE_PATIENCE, server).await {
        console::error(format!("the web page's server: {e}"));
    }
    // The HR data must not outlive us: removed here, whatever a client or an import still holds.
    let _ = std::fs::remove_dir_all(&dir);
    console::ui_stopped();
    Ok(exit)
}

/// Writes `open.html` (readable by this user only) into the private folder: a page that
/// leads the browser to `url`, as notebook servers do.
fn redirect_file(dir: &std::path::Path, url: &str) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let path = dir.join("open.html");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    // The address is ours: digits and hex, nothing to escape.
    write!(
        file,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>velt-groups</title></head>\
         <body><p><a href=\"{url}\">Open velt-groups</a></p></body></html>\n"
    )?;
    Ok(path)
}

/// Every route, behind the guard (which also covers the fallback and wrong methods).
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/api/session", get(check::session))
        .route("/api/files", put(files::add).delete(files::clear))
        .route("/api/check", post(check::check))
        .route("/api/import", post(job::start))
        .route("/api/progress", get(job::progress))
        .route("/api/stop", post(job::stop))
        .route("/report/{job}/{file}", get(job::download))
        .fallback(page::not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard::guard))
        .with_state(app)
}

/// Resolves on Ctrl-C, SIGTERM, SIGHUP (the terminal closed), SIGQUIT, SIGUSR1, SIGUSR2 or
/// SIGALRM: every signal that ends a process by default and can be caught. The handlers are
/// in place as soon as this returns, so each of them ends the server cleanly.
#[cfg(unix)]
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Serve)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::Serve)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(Error::Serve)?;
    let mut quit = signal(SignalKind::quit()).map_err(Error::Serve)?;
    // These end a process by default too, and can be caught.
    let mut user1 = signal(SignalKind::user_defined1()).map_err(Error::Serve)?;
    let mut user2 = signal(SignalKind::user_defined2()).map_err(Error::Serve)?;
    let mut alarm = signal(SignalKind::alarm()).map_err(Error::Serve)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
            _ = quit.recv() => {}
            _ = user1.recv() => {}
            _ = user2.recv() => {}
            _ = alarm.recv() => {}
        }
    })
}

/// A future resolving on Ctrl-C or Ctrl-Break.
#[cfg(not(unix))]
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    Ok(async {
        #[cfg(windows)]
        if let Ok(mut brk) = tokio::signal::windows::ctrl_break() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = brk.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    })
}
