//! `GET /api/session`: where the page writes to and its starting choices. `POST /api/check`:
//! the picked files read, mapped, normalized and planned with the page's choices, by the same
//! steps `import` takes up to sending.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::app::{App, UiError, Upload};
use super::view::{self, CheckView};
use crate::cli::{GroupBy, GroupByTable, InputOptions};
use crate::cmd::import;
use crate::input::{self, InputSettings, Seen};
use crate::normalize;
use crate::plan::{Plan, PlanOptions};
use crate::state::State as StateFile;

/// The page's choices: the column flags, `--org`, `--sheet`, `--header-row` and `--members`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Choices {
    /// `--org`.
    pub org: Option<String>,
    /// `--name-column`.
    pub name_column: Option<String>,
    /// `--id-column`.
    pub id_column: Option<String>,
    /// `--org-column`.
    pub org_column: Option<String>,
    /// `--user-column`.
    pub user_column: Option<String>,
    /// `--sheet`.
    pub sheet: Option<String>,
    /// `--header-row`.
    pub header_row: Option<u64>,
    /// `--members`.
    pub members: bool,
    /// `--status-column` (`none`: no status).
    pub status_column: Option<String>,
    /// `--end-date-column` (`none`: no end date).
    pub end_date_column: Option<String>,
    /// `--start-date-column` (`none`: no start date).
    pub start_date_column: Option<String>,
    /// "Also group by": the `--group-by` kinds after the department, in order.
    pub also_group_by: Vec<AlsoGroupBy>,
    /// `--hierarchy-separator`.
    pub hierarchy_separator: Option<String>,
}

/// One kind the page groups by besides the department.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlsoGroupBy {
    /// The kind (`location`): its groups' ID prefix too.
    pub kind: String,
    /// The column's header.
    pub column: String,
}

/// The config's `--group-by` entries as tables (a flag's `KIND=COLUMN` split; one without `=`
/// is left for the settings to refuse).
fn tables(given: &[GroupBy]) -> Vec<GroupByTable> {
    given
        .iter()
        .map(|g| match g {
            GroupBy::Table(t) => t.clone(),
            GroupBy::Flag(text) => {
                let (kind, column) = text.split_once('=').unwrap_or((text, ""));
                GroupByTable::new(kind, column)
            }
        })
        .collect()
}

impl Choices {
    /// The choices a config file starts the page with.
    fn from_config(input: &InputOptions) -> Self {
        Choices {
            org: input.org.clone(),
            name_column: input.name_column.clone(),
            id_column: input.id_column.clone(),
            org_column: input.org_column.clone(),
            user_column: input.user_column.clone(),
            sheet: input.sheet.clone(),
            header_row: input.header_row,
            members: input.members,
            status_column: input.status_column.clone(),
            end_date_column: input.end_date_column.clone(),
            start_date_column: input.start_date_column.clone(),
            also_group_by: tables(&input.group_by)
                .into_iter()
                .skip(1)
                .map(|t| AlsoGroupBy {
                    kind: t.kind,
                    column: t.column,
                })
                .collect(),
            hierarchy_separator: input.hierarchy_separator.clone(),
        }
    }

    /// The `--group-by` list for these choices: the config's first kind (or the department)
    /// with the page's department column, then the page's other kinds. Empty when the page
    /// groups by the department alone, as the command line does without the flag.
    fn group_by(&self, config: &InputOptions, name_column: Option<&str>) -> Vec<GroupBy> {
        if self.also_group_by.is_empty() {
            return Vec::new();
        }
        let mut first = tables(&config.group_by)
            .into_iter()
            .next()
            .unwrap_or(GroupByTable::new(crate::normalize::kind::DEPARTMENT, ""));
        if let Some(column) = name_column {
            first.column = column.to_owned();
        }
        let rest = self
            .also_group_by
            .iter()
            .map(|k| GroupBy::Table(GroupByTable::new(k.kind.trim(), &k.column)));
        std::iter::once(GroupBy::Table(first)).chain(rest).collect()
    }

    /// The input settings for `files` with these choices; the config's other input options
    /// (delimiter, encoding, person columns...) hold.
    fn input(&self, config: &InputOptions, files: &[Upload]) -> Result<InputSettings, String> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let options = InputOptions {
            inputs: files.iter().map(|f| f.path.clone()).collect(),
            org: given(&self.org),
            name_column: given(&self.name_column),
            id_column: given(&self.id_column),
            org_column: given(&self.org_column),
            user_column: given(&self.user_column),
            sheet: given(&self.sheet),
            header_row: self.header_row,
            members: self.members,
            status_column: given(&self.status_column),
            end_date_column: given(&self.end_date_column),
            start_date_column: given(&self.start_date_column),
            group_by: self.group_by(config, given(&self.name_column).as_deref()),
            hierarchy_separator: self.hierarchy_separator.clone().filter(|s| !s.is_empty()),
            ..config.clone()
        };
        let mut input = crate::settings::input_settings(options).map_err(|e| e.to_string())?;
        input.names = files.iter().map(|f| f.name.clone()).collect();
        Ok(input)
    }
}

/// What `GET /api/session` answers.
#[derive(Serialize)]
pub struct Session {
    api_base: String,
    credentials: bool,
    state: Option<String>,
    remove_departed: bool,
    choices: Choices,
    files: Vec<String>,
}

/// `GET /api/session`: where it writes to and the choices to start from; never the secrets.
pub async fn session(State(app): State<Arc<App>>) -> Json<Session> {
    let s = &app.settings;
    Json(Session {
        api_base: s.upload.api_base.to_string(),
        credentials: s.has_credentials(),
        state: s.state.as_ref().map(|p| p.display().to_string()),
        remove_departed: s.remove_departed,
        choices: Choices::from_config(&s.input),
        files: app.session().files.iter().map(|f| f.name.clone()).collect(),
    })
}

/// `POST /api/check`: what the files hold and what an import would do.
pub async fn check(State(app): State<Arc<App>>, Json(choices): Json<Choices>) -> Result<Json<CheckView>, UiError> {
    let files = picked(&app)?;
    let view = blocking(move || {
        Ok(match prepare(&app, &files, &choices) {
            Ok(p) => view::checked(&p.normalized, &p.plan, &p.seen, &app.settings.upload),
            Err(stopped) => view::failed(&stopped.errors, &stopped.seen),
        })
    })
    .await?;
    Ok(Json(view))
}

/// The files picked, unless an import is running.
pub fn picked(app: &App) -> Result<Vec<Upload>, UiError> {
    let session = app.session();
    if session.job.as_ref().is_some_and(|j| j.running()) {
        return Err(UiError::Busy);
    }
    if session.files.is_empty() {
        return Err(UiError::BadRequest("pick a file first".into()));
    }
    Ok(session.files.clone())
}

/// Runs pipeline work (files, SQLite, child processes) off the server's threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UiError::Io(std::io::Error::other(e)))?
}

/// The files read and planned, ready to send.
pub struct Prepared {
    /// The normalizer's answer.
    pub normalized: normalize::Plan,
    /// Every group and membership with what is to be done.
    pub plan: Plan,
    /// The state file, open (and locked) while it is held.
    pub state: Option<Arc<StateFile>>,
    /// What was made of each file.
    pub seen: Vec<Seen>,
}

/// Why the files could not be planned, worded as the terminal words it.
pub struct Stopped {
    /// One message per failure.
    pub errors: Vec<String>,
    /// What was made of each file.
    pub seen: Vec<Seen>,
}

/// Reads, maps, normalizes and plans `files` with `choices`, as `import` does before sending.
pub fn prepare(app: &App, files: &[Upload], choices: &Choices) -> Result<Prepared, Stopped> {
    let s = &app.settings;
    let mut seen = Vec::new();
    let stop = |errors: Vec<String>, seen: Vec<Seen>| Stopped { errors, seen };
    let input = match choices.input(&s.input, files) {
        Ok(input) => input,
        Err(e) => return Err(stop(vec![e], seen)),
    };
    let normalized = match input::load_seen(&input, &mut seen) {
        Ok(n) => n,
        Err(errors) => return Err(stop(errors.iter().map(ToString::to_string).collect(), seen)),
    };
    let options = PlanOptions {
        full: s.full,
        members: choices.members,
        // Removals need members; without them the setting has nothing to remove.
        remove_departed: s.remove_departed && choices.members,
        max_removals: s.max_removals,
        repair: false,
    };
    let planned =
        import::open_state(s.state.as_deref(), &s.upload, crate::state::WholeCheck::WhenDue).and_then(|state| {
            let known = import::known(state.as_deref())?;
            Ok((
                import::prepare(&normalized, state.as_deref(), known, options, None)?,
                state,
            ))
        });
    match planned {
        Ok((plan, state)) => Ok(Prepared {
            normalized,
            plan,
            state,
            seen,
        }),
        Err(e) => Err(stop(vec![e.to_string()], seen)),
    }
}
