//! Integration tests: the real binary on real files.

// The module graph: layered along the pipeline, no cycle.
mod architecture;

// The work-directory helper: temp dirs, inline inputs, XLSX written with rust_xlsxwriter.
mod workdir;

// Every malformed input: exit code 2, one located line on stderr, no panic.
mod bad_input;
// `check`'s three output formats, its JSON contract and its exit codes.
mod check;
// Reader features: encodings, delimiters, quoting, spreadsheets and their cells.
mod read;
// The golden file of group IDs: any drift is a breaking change.
mod golden;
// `import` against the fake server: every fault, the rate, the chunking, the outcomes.
mod upload;
// A server that redirects, quotes secrets, sends escapes or endless answers.
mod hostile;
// Output paths: never an input, checked before sending, a fallback when the report fails.
mod outputs;
// What stderr tells: failure causes, 429s, the dry run's table.
mod feedback;
// Results reports in every format, fed back as input, and CSV injection.
mod report;
// The state file: incremental runs, renames, stale groups, kill -9 and resume.
mod state;
// --config files: every option, flags winning, credentials and their file mode.
mod config;
// Chaos, kill and resume, full and read-only disks, every malformed fixture.
mod reliability;
// The whole directory against the strictest server: org users, partial failures, re-runs.
mod directory;
// --members: first sync, joiners, leavers, transfers, per-user failures, the removal guard.
mod members;
// Look-alikes of Workday, BambooHR, ADP, SuccessFactors, Personio and HiBob exports.
mod corpus;
// Issue #16: mis-coded rows named by majority, spellings merged, --strict-names.
mod dirty;
// Issue #19: only current people; each HR system's status and dates, --where, leavers removed.
mod current;
// Issue #19 over nights: leavers removed within the guard, verify and --repair; the web page.
mod current_sync;
// Header detection, sniffing and column flags under title blocks; merged cells.
mod read_header;
// Department names as Unicode text: NFC, invisible formatting characters.
mod read_text;
// FIFOs, standard input, the reader child's lifetime, sparse sheets.
mod read_stream;
// `velt-groups ui` over HTTP: the token and Host on every route, loopback only, the API.
mod ui;
// `velt-groups ui` in headless Chromium: three actions to an import, conflicts named.
mod ui_browser;
// One department, one name, every night: merges, order-free names, renames, invisible characters.
mod names;
// The page's server: signals, shutdown, its temporary folder, the browser it opens.
mod ui_server;
// The page's runs in a browser: failing, stopped, reloaded, retried, narrow.
mod ui_runs;
// What ships: completions, the man page, --version; HTTPS through a proxy with a private CA.
mod ship;
// Issue #25: JSON logs, the metrics file and webhook notifications of a scheduled run.
mod monitor;
// Issue 21: the read-back is exact and bounded; could not check is exit 2.
mod readback;
// Issue 21: the network: an --api-base path prefix, --rate auto and slowness.
mod network;
// Issue 21: files the run must not destroy: outputs, a read-only state folder, the lock.
mod files;
// Issue 21: every option is accepted by every command it means something to.
mod consistency;
// Issue #23: --group-by kinds and hierarchies over nights; a state file from before kinds.
mod group_by;
// Issue #22: outputs at 100,000 people, byte for byte, across the memory work.
mod scale;
