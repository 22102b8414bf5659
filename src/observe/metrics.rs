//! `--metrics-file PATH`: the run in the Prometheus text exposition format, for
//! node_exporter's textfile collector. Written after every run, success or not, whole (a
//! temporary file renamed over it), so the collector never reads half a file.
//!
//! Every series has a `command` label, so `import` and `verify` can write files side by side
//! in one collector folder without clashing. Counts of the run are counters (`_total`): each
//! run is a new process, whose counters start from zero.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::notify::Delivery;
use super::{Record, DIFFERENCE_KINDS};

/// The file's text.
pub fn render(record: &Record, deliveries: &[Delivery]) -> String {
    let mut out = Metrics {
        text: String::new(),
        command: record.command,
    };
    let seconds = |t: jiff::Timestamp| t.as_millisecond() as f64 / 1000.0;
    out.gauge(
        "velt_groups_last_run_start_timestamp_seconds",
        "When the last run started, Unix time.",
        &[(&[], seconds(record.started))],
    );
    out.gauge(
        "velt_groups_last_run_end_timestamp_seconds",
        "When the last run ended, Unix time.",
        &[(&[], seconds(record.finished))],
    );
    out.gauge(
        "velt_groups_last_run_duration_seconds",
        "How long the last run took.",
        &[(&[], record.elapsed_seconds)],
    );
    out.gauge(
        "velt_groups_last_run_exit_code",
        "The last run's exit code: 0 done, 1 some work not done (or drift found), 2 nothing attempted.",
        &[(&[], f64::from(record.exit_code))],
    );
    out.gauge(
        "velt_groups_last_run_success",
        "1 if the last run succeeded with nothing held back, else 0.",
        &[(&[], if record.has_problems() { 0.0 } else { 1.0 })],
    );
    if let Some(n) = record.rows_held_back {
        out.counter(
            "velt_groups_rows_held_back_total",
            "Input rows held back: invalid, or behind a conflicting name.",
            &[(&[], n as f64)],
        );
    }
    if let Some(by_reason) = &record.people_left_out {
        let samples: Vec<([(&str, &str); 1], f64)> = by_reason
            .iter()
            .map(|(reason, n)| ([("reason", *reason)], *n as f64))
            .collect();
        let samples: Vec<(&[(&str, &str)], f64)> = samples.iter().map(|(l, n)| (&l[..], *n)).collect();
        out.counter(
            "velt_groups_people_left_out_total",
            "Rows left out as not current (left, not_started) or by a --where filter (filtered).",
            &samples,
        );
    }
    if let Some(s) = &record.summary {
        for (name, help, by_org) in [
            (
                "velt_groups_groups_total",
                "Groups by organization and status.",
                &s.organizations,
            ),
            (
                "velt_groups_users_total",
                "Organization users by organization and status (--members).",
                &s.users,
            ),
            (
                "velt_groups_memberships_total",
                "Membership changes by organization and status (--members).",
                &s.memberships,
            ),
        ] {
            let samples: Vec<(Vec<(&str, &str)>, f64)> = by_org
                .iter()
                .flat_map(|(org, counts)| {
                    counts
                        .iter()
                        .map(move |(status, n)| (vec![("organization", org.as_str()), ("status", *status)], *n as f64))
                })
                .collect();
            let samples: Vec<(&[(&str, &str)], f64)> = samples.iter().map(|(l, v)| (l.as_slice(), *v)).collect();
            out.counter(name, help, &samples);
        }
        out.counter(
            "velt_groups_requests_total",
            "Requests sent, retries included.",
            &[(&[], s.requests as f64)],
        );
        out.counter(
            "velt_groups_retries_total",
            "Requests sent again.",
            &[(&[], s.retries as f64)],
        );
        out.counter(
            "velt_groups_rate_limited_total",
            "Answers 429: the server asked to slow down.",
            &[(&[], s.rate_limited as f64)],
        );
        out.gauge(
            "velt_groups_rate_requests_per_second",
            "The rate reached: the one settled on after 429s (or with --rate auto), else the rate in force at the end.",
            &[(&[], s.settled_rate.unwrap_or(s.final_rate))],
        );
        out.gauge(
            "velt_groups_upload_duration_seconds",
            "Time spent sending.",
            &[(&[], s.elapsed_seconds)],
        );
    }
    if let Some(d) = &record.differences {
        let samples: Vec<(Vec<(&str, &str)>, f64)> = d
            .iter()
            .flat_map(|(org, kinds)| {
                DIFFERENCE_KINDS.iter().map(move |kind| {
                    let n = kinds.get(kind).copied().unwrap_or(0);
                    (vec![("organization", org.as_str()), ("kind", *kind)], n as f64)
                })
            })
            .collect();
        let samples: Vec<(&[(&str, &str)], f64)> = samples.iter().map(|(l, v)| (l.as_slice(), *v)).collect();
        out.counter(
            "velt_groups_verify_differences_total",
            "Differences verify found between the export and the server, by organization and kind.",
            &samples,
        );
    }
    if !deliveries.is_empty() {
        let mut by: BTreeMap<&str, f64> = [("sent", 0.0), ("failed", 0.0)].into();
        for d in deliveries {
            *by.entry(if d.result.is_ok() { "sent" } else { "failed" }).or_default() += 1.0;
        }
        let samples: Vec<[(&str, &str); 1]> = by.keys().map(|s| [("status", *s)]).collect();
        let samples: Vec<(&[(&str, &str)], f64)> = samples
            .iter()
            .zip(by.values())
            .map(|(l, v)| (l.as_slice(), *v))
            .collect();
        out.counter(
            "velt_groups_notifications_total",
            "Webhook notifications, by whether they were accepted.",
            &samples,
        );
    }
    out.text
}

struct Metrics {
    text: String,
    command: &'static str,
}

impl Metrics {
    fn gauge(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        self.family(name, "gauge", help, samples);
    }

    fn counter(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        self.family(name, "counter", help, samples);
    }

    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        // A family without samples (no --members) is left out rather than written empty.
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let mut all = vec![format!("command=\"{}\"", escape(self.command))];
            all.extend(labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))));
            let _ = writeln!(self.text, "{name}{{{}}} {}", all.join(","), number(*value));
        }
    }
}

/// A label value as the format quotes it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value: Go's float syntax, `NaN` and `+Inf` spelled as the format wants.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.5), "0.5");
    }
}
