//! One wording table for both front ends. Messages are written once, naming the command
//! line's flags (the terminal prints them as they are); the web page shows the same messages
//! with each flag replaced by the control on the page that does its work, or, for a setting
//! the page has no control for, by its config-file key.

/// A flag and what the web page calls the same choice.
pub struct Control {
    /// The flag as messages name it (`--org ID`: with its value's placeholder, when messages
    /// give one).
    pub flag: &'static str,
    /// The page's words for it.
    pub page: &'static str,
}

/// Every flag a message may name that the page has a control for. Longer flags that begin
/// with a shorter one are matched first (see [`for_page`]).
pub const CONTROLS: &[Control] = &[
    Control {
        flag: "--org ID",
        page: "the Organization ID field",
    },
    Control {
        flag: "--org",
        page: "the Organization ID field",
    },
    Control {
        flag: "--org-column",
        page: "the Organization choice under Columns",
    },
    Control {
        flag: "--name-column",
        page: "the Department choice under Columns",
    },
    Control {
        flag: "--id-column",
        page: "the Department code choice under Columns",
    },
    Control {
        flag: "--user-column",
        page: "the User ID choice under Columns",
    },
    Control {
        flag: "--sheet",
        page: "the Sheet choice under Columns",
    },
    Control {
        flag: "--header-row",
        page: "the Header row field under Columns",
    },
    Control {
        flag: "--group-by",
        page: "the Also group by choice under Columns",
    },
    Control {
        flag: "--hierarchy-separator",
        page: "the Path separator field under Columns",
    },
    Control {
        flag: "--members",
        page: "the box \"Also make each group's members match the export\"",
    },
    Control {
        flag: "--allow-partial",
        page: "Import the rest (asked when you press Import)",
    },
    Control {
        flag: "--dry-run",
        page: "the Dry run button",
    },
];

/// `text` as the page says it: each flag of [`CONTROLS`] replaced by the page's control, and
/// any other flag by its config-file key (every flag is one), which is where the page's
/// settings come from.
pub fn for_page(text: &str) -> String {
    let mut controls: Vec<&Control> = CONTROLS.iter().collect();
    // "--org-column" before "--org", "--org ID" before "--org".
    controls.sort_by_key(|c| std::cmp::Reverse(c.flag.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let flag_end = 2 + from[2..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(from.len() - 2);
        let control = controls
            .iter()
            .find(|c| from.starts_with(c.flag) && ends_word(from, c.flag.len()));
        match control {
            Some(c) => {
                out.push_str(c.page);
                rest = &from[c.flag.len()..];
            }
            None if flag_end > 2 && from.as_bytes()[2].is_ascii_lowercase() => {
                out.push_str(&from[2..flag_end]);
                out.push_str(" (a config file key)");
                rest = &from[flag_end..];
            }
            None => {
                out.push_str("--");
                rest = &from[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text[at..]` starts past the end of a word.
fn ends_word(text: &str, at: usize) -> bool {
    !text[at..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::for_page;

    #[test]
    fn flags_become_the_page_controls() {
        assert_eq!(
            for_page("give one organization for every row with --org ID, or name the column with --org-column"),
            "give one organization for every row with the Organization ID field, or name the column with the Organization choice under Columns"
        );
        assert_eq!(
            for_page("if the header is not row 1, give its row with --header-row"),
            "if the header is not row 1, give its row with the Header row field under Columns"
        );
        assert_eq!(
            for_page("raise --max-removals if the removals are right"),
            "raise max-removals (a config file key) if the removals are right"
        );
        assert_eq!(for_page("no flags -- here"), "no flags -- here");
        assert_eq!(for_page("'--org'"), "'the Organization ID field'");
    }
}
