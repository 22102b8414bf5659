//! A person's display name, cleaned like department names.

use std::borrow::Cow;

use super::slug::clean_name;

/// The person's display name from a row's cells: the full name when it is there, else the
/// first and last names joined by one space; cleaned like department names (trimmed, one space
/// between words); `None` when nothing is left.
pub fn display_name<'a>(full: Option<&'a str>, first: Option<&'a str>, last: Option<&'a str>) -> Option<Cow<'a, str>> {
    let full = full.map(clean_name).filter(|n| !n.is_empty());
    full.or_else(|| {
        // Into one string: this runs once per row of a million-row export.
        let mut name: Option<Cow<'a, str>> = None;
        for part in [first, last]
            .into_iter()
            .flatten()
            .map(clean_name)
            .filter(|p| !p.is_empty())
        {
            name = Some(match name {
                None => part,
                Some(first) => {
                    let mut both = String::with_capacity(first.len() + 1 + part.len());
                    both.push_str(&first);
                    both.push(' ');
                    both.push_str(&part);
                    Cow::Owned(both)
                }
            });
        }
        name
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_joined_and_cleaned() {
        assert_eq!(
            display_name(None, Some(" Ada "), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            display_name(Some("  Adinolfi,  Wilson  K "), Some("x"), None).as_deref(),
            Some("Adinolfi, Wilson K")
        );
        assert_eq!(display_name(Some(" "), Some("Ada"), Some("")).as_deref(), Some("Ada"));
        assert_eq!(display_name(None, None, Some("Lovelace")).as_deref(), Some("Lovelace"));
        assert_eq!(display_name(Some(""), Some(" "), None), None);
    }
}
