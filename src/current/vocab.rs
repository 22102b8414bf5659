//! The status values HR systems write, and what each means. Matched whole, case-insensitively,
//! with punctuation and spacing ignored ("Full-Time" = "full time"); a value not listed is
//! never guessed (the caller reports it).

/// What a status value says about the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Works there.
    Active,
    /// Away but still employed (leave of absence, garden leave...): current.
    Leave,
    /// Has left.
    Leaver,
    /// Hired but not started (a pre-hire).
    NotStarted,
}

/// Values that mean the person works there (Workday, BambooHR, ADP, SuccessFactors, Personio,
/// HiBob, and the employment types some systems put in their status column).
pub const ACTIVE: &[&str] = &[
    "active",
    "a",
    "actively employed",
    "employed",
    "current",
    "working",
    "in service",
    "rehired",
    "rehire",
    "onboarding",
    "probation",
    "on probation",
    "probationary",
    "full time",
    "fulltime",
    "part time",
    "parttime",
    "permanent",
    "regular",
    "regular full time",
    "regular part time",
    "temporary",
    "temp",
    "seasonal",
    "fixed term",
    "contractor",
    "contract",
    "contingent",
    "contingent worker",
    "intern",
    "internship",
    "apprentice",
    "trainee",
    "employee",
];

/// Values that mean the person is away but still employed.
pub const LEAVE: &[&str] = &[
    "leave",
    "l",
    "on leave",
    "leave of absence",
    "loa",
    "paid leave",
    "unpaid leave",
    "leave with pay",
    "leave without pay",
    "medical leave",
    "sick leave",
    "parental leave",
    "maternity leave",
    "paternity leave",
    "family leave",
    "sabbatical",
    "garden leave",
    "furlough",
    "furloughed",
    "short term disability",
    "long term disability",
    "disability",
    "military leave",
    "notice period",
    "active leave",
];

/// Values that mean the person has left.
pub const LEAVER: &[&str] = &[
    "inactive",
    "not active",
    "terminated",
    "terminated for cause",
    "voluntarily terminated",
    "involuntarily terminated",
    "terminated voluntary",
    "terminated involuntary",
    "voluntary termination",
    "involuntary termination",
    "termed",
    "termination",
    "resigned",
    "resignation",
    "retired",
    "retiree",
    "deceased",
    "dismissed",
    "fired",
    "laid off",
    "layoff",
    "redundant",
    "redundancy",
    "left",
    "leaver",
    "former",
    "former employee",
    "ex employee",
    "separated",
    "separation",
    "withdrawn",
    "ended",
    "end of contract",
    "contract ended",
    "expired",
    "deactivated",
    "disabled",
    "archived",
    "exited",
    "offboarded",
    "quit",
    "discharged",
    "suspended",
    "alumni",
    "no longer employed",
];

/// Values that mean the person has not started.
/// HiBob's "Hired" is a person whose start date is still to come.
pub const NOT_STARTED: &[&str] = &[
    "pre hire",
    "prehire",
    "hired",
    "future hire",
    "future start",
    "not started",
    "pending start",
];

/// Yes and no, as hand-kept sheets write them (`Active`: Y/N, TRUE/FALSE, 1/0).
const YES: &[&str] = &["yes", "y", "true", "1", "x", "ja", "oui", "si"];
const NO: &[&str] = &["no", "n", "false", "0", "nein", "non"];

/// A value as compared: lower case, words separated by one space, punctuation dropped.
pub fn key(value: &str) -> String {
    let mut out = String::new();
    for word in value.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// The operator's own classification (`--active-values`, `--inactive-values`), as keys.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Values that are current.
    pub active: Vec<String>,
    /// Values that have left.
    pub inactive: Vec<String>,
}

/// What `value` (already a [`key`], not empty) says in a status column; `negated` for a
/// "Leaver" column, whose yes is a leaver. `None`: not a known value.
pub fn classify(value: &str, negated: bool, overrides: &Overrides) -> Option<Class> {
    if overrides.inactive.iter().any(|v| v == value) {
        return Some(Class::Leaver);
    }
    if overrides.active.iter().any(|v| v == value) {
        return Some(Class::Active);
    }
    let (yes, no) = if negated {
        (Class::Leaver, Class::Active)
    } else {
        (Class::Active, Class::Leaver)
    };
    if YES.contains(&value) {
        return Some(yes);
    }
    if NO.contains(&value) {
        return Some(no);
    }
    if ACTIVE.contains(&value) {
        Some(Class::Active)
    } else if LEAVE.contains(&value) {
        Some(Class::Leave)
    } else if LEAVER.contains(&value) {
        Some(Class::Leaver)
    } else if NOT_STARTED.contains(&value) {
        Some(Class::NotStarted)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_each_system() {
        let none = Overrides::default();
        let c = |v: &str| classify(&key(v), false, &none);
        for v in [
            "Active",
            "Full-Time",
            "Contractor",
            "Employed",
            "onboarding",
            "Y",
            "TRUE",
            "1",
        ] {
            assert_eq!(c(v), Some(Class::Active), "{v}");
        }
        for v in ["Leave", "Unpaid Leave", "Garden leave", "leave", "Leave of Absence"] {
            assert_eq!(c(v), Some(Class::Leave), "{v}");
        }
        for v in [
            "Voluntarily Terminated",
            "Terminated for Cause",
            "Inactive",
            "Retired",
            "Suspended",
            "N",
            "FALSE",
            "0",
        ] {
            assert_eq!(c(v), Some(Class::Leaver), "{v}");
        }
        assert_eq!(c("Pre-Hire"), Some(Class::NotStarted));
        // Never guessed: ADP's one-letter "T" could be TRUE or Terminated.
        assert_eq!(c("T"), None);
        assert_eq!(c("On Sabbatical Soon"), None);
    }

    #[test]
    fn a_leaver_column_reads_yes_as_left_and_overrides_win() {
        let none = Overrides::default();
        assert_eq!(classify("yes", true, &none), Some(Class::Leaver));
        assert_eq!(classify("n", true, &none), Some(Class::Active));
        let mine = Overrides {
            active: vec![key("Suspended")],
            inactive: vec![key("Alumni-Pending")],
        };
        assert_eq!(classify("suspended", false, &mine), Some(Class::Active));
        assert_eq!(classify(&key("ALUMNI pending"), false, &mine), Some(Class::Leaver));
    }
}
