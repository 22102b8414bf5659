//! The options that tell the tools watching a run how it went: the log format, the metrics
//! file and the webhooks to notify.

use std::path::{Path, PathBuf};

use super::{paths, SettingsError};
use crate::cli::{LogFormat, LogOptions, MonitorOptions, NotifyOn};
use crate::secret::Secret;

/// Logs, metrics and notifications of one run.
#[derive(Debug, Clone, Default)]
pub struct MonitorSettings {
    /// `--log-format`.
    pub log_format: LogFormat,
    /// `--metrics-file`.
    pub metrics_file: Option<PathBuf>,
    /// `--notify`, `notify` and `VELT_GROUPS_NOTIFY`: each URL carries a token.
    pub notify: Vec<Secret>,
    /// `--notify-on`.
    pub notify_on: NotifyOn,
}

/// Only the log format: the commands that write no metrics and send no notification.
pub(super) fn log_only(log: LogOptions) -> MonitorSettings {
    MonitorSettings {
        log_format: log.log_format.unwrap_or_default(),
        ..MonitorSettings::default()
    }
}

/// Validates the options; the metrics file must be none of `inputs` and none of the command's
/// other `outputs` (`(flag, path)`).
pub(super) fn monitor_settings(
    log: LogOptions,
    monitor: MonitorOptions,
    inputs: &[PathBuf],
    outputs: &[(&'static str, &Path)],
    held: &[(&'static str, PathBuf)],
) -> Result<MonitorSettings, SettingsError> {
    if let Some(path) = &monitor.metrics_file {
        let metrics = ("--metrics-file", path.as_path());
        paths::refuse_outputs_over_inputs(&[metrics], inputs)?;
        paths::refuse_outputs_over_held(&[metrics], held)?;
        let mut all = outputs.to_vec();
        all.push(metrics);
        paths::refuse_clashing_outputs(&all)?;
    }
    // The environment variable is space-separated; stray spaces make empty entries.
    let urls: Vec<&str> = monitor.notify.iter().flat_map(|u| u.split_whitespace()).collect();
    let notify = urls
        .iter()
        .enumerate()
        .map(|(i, url)| webhook(url, i + 1, urls.len()))
        .collect::<Result<_, _>>()?;
    Ok(MonitorSettings {
        log_format: log.log_format.unwrap_or_default(),
        metrics_file: monitor.metrics_file,
        notify,
        notify_on: monitor.notify_on.unwrap_or_default(),
    })
}

/// One webhook URL: https, or plain http to a loopback address only, as for `--api-base`
/// (the URL's token must not cross a network in clear). The error names the URL by its place
/// in the list, never by its text.
fn webhook(text: &str, n: usize, of: usize) -> Result<Secret, SettingsError> {
    let which = if of == 1 {
        "the URL".to_owned()
    } else {
        format!("URL {n} of {of}")
    };
    let bad = |why: &str| {
        SettingsError::invalid(
            "--notify",
            format!("{which} {why} (the URL is not shown: it carries a token)"),
        )
    };
    let url = url::Url::parse(text).map_err(|_| bad("is not a URL"))?;
    match url.scheme() {
        "https" => Ok(Secret::new(text)),
        "http" if crate::upload::is_loopback(&url) => Ok(Secret::new(text)),
        "http" => Err(bad(
            "is plain http; use https (plain http is allowed only for loopback addresses)",
        )),
        _ => Err(bad("must be an https URL")),
    }
}

/// The metrics file is a file like the report: a relative path in a config file is relative
/// to the file.
pub(super) fn rebase(options: &mut MonitorOptions, base: &Path) {
    if let Some(path) = &mut options.metrics_file {
        if path.is_relative() {
            *path = base.join(&*path);
        }
    }
}
