//! `velt-groups ui`: a local web page for the person handed a spreadsheet. It is served on
//! 127.0.0.1 only, behind a random token checked on every request (with the Host header, against
//! DNS rebinding), and is a thin layer over the pipeline: files picked on the page are copied
//! into a private temporary folder and go through the same `input`, `cmd::import` and `report`
//! code as the command line. One file per route; the page itself is plain HTML, CSS and JS
//! from `assets/`, compiled into the binary.

mod app;
mod check;
mod files;
mod guard;
mod job;
mod page;
mod view;

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::{middleware, Router};

use crate::console;
use crate::error::{Error, Exit};
use crate::settings::UiSettings;
use app::App;

/// Runs `ui` until Ctrl-C (or SIGTERM).
pub fn run(settings: &UiSettings) -> Result<Exit, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(serve(settings.clone()))
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
        // xdg-open may take its time; the page is served meanwhile.
        tokio::task::spawn_blocking(move || {
            if let Err(e) = opener::open_browser(&url) {
                console::browser_failed(e);
            }
        });
    }
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop)
        .await
        .map_err(Error::Serve)?;
    // An import still running holds the folder's owner; the HR data must not outlive us anyway.
    let _ = std::fs::remove_dir_all(&dir);
    console::ui_stopped();
    Ok(Exit::Success)
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
        .route("/report/{job}/{file}", get(job::download))
        .fallback(page::not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard::guard))
        .with_state(app)
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are in place as soon as this returns.
#[cfg(unix)]
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Serve)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::Serve)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// A future resolving on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
