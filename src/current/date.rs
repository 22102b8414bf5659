//! Dates as HR exports write them: ISO (`2024-03-14`, with or without a time), the export's own
//! day/month order (`14/03/2024`, `3/14/24 0:00`), month names (`14 Mar 2024`, `Mar 14, 2024`),
//! compact `20240314`, and spreadsheet serial numbers (`45365`). The day/month order is decided
//! per column by the caller, from the values that can only be read one way.

use jiff::civil::Date;

/// Day first or month first, for dates such as `03/04/2024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `14/03/2024`.
    DayFirst,
    /// `03/14/2024`.
    MonthFirst,
}

/// `--date-format`: an order, or a strftime pattern (`%d.%m.%Y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// `DMY` or `MDY`.
    Order(Order),
    /// A pattern, for what nothing else reads.
    Pattern(String),
}

impl DateFormat {
    /// Parses `--date-format`: `DMY`, `MDY` (also `day-first`, `month-first`) or a pattern
    /// holding `%`.
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "dmy" | "day-first" | "dd/mm/yyyy" => Ok(DateFormat::Order(Order::DayFirst)),
            "mdy" | "month-first" | "mm/dd/yyyy" => Ok(DateFormat::Order(Order::MonthFirst)),
            _ if t.contains('%') => Ok(DateFormat::Pattern(t.to_owned())),
            _ => Err(format!(
                "takes DMY (14/03/2024), MDY (03/14/2024) or a pattern such as %d.%m.%Y, not '{text}'"
            )),
        }
    }
}

/// What a date cell says before the column's order is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// One date, however the column is ordered.
    Date(Date),
    /// Two numbers and a year: the date depends on the order. `first` and `second` as written.
    Numeric {
        /// The first number.
        first: u8,
        /// The second number.
        second: u8,
        /// The year, four digits.
        year: i16,
    },
    /// Not a date.
    Unreadable,
}

impl Reading {
    /// The order this value forces, when it can only be read one way (`25/03/2024`).
    pub fn forces(&self) -> Option<Order> {
        match *self {
            Reading::Numeric { first, second, year } => {
                let day_first = date(year, second, first).is_some();
                let month_first = date(year, first, second).is_some();
                match (day_first, month_first) {
                    (true, false) => Some(Order::DayFirst),
                    (false, true) => Some(Order::MonthFirst),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// True when the value reads as two different dates.
    pub fn is_ambiguous(&self) -> bool {
        matches!(*self, Reading::Numeric { first, second, year }
            if first != second && date(year, second, first).is_some() && date(year, first, second).is_some())
    }

    /// The date in a column of this order.
    pub fn date(&self, order: Order) -> Option<Date> {
        match *self {
            Reading::Date(d) => Some(d),
            Reading::Numeric { first, second, year } => match order {
                Order::DayFirst => date(year, second, first),
                Order::MonthFirst => date(year, first, second),
            },
            Reading::Unreadable => None,
        }
    }
}

fn date(year: i16, month: u8, day: u8) -> Option<Date> {
    let (month, day) = (i8::try_from(month).ok()?, i8::try_from(day).ok()?);
    Date::new(year, month, day).ok()
}

/// A two-digit year as strptime's `%y` reads it: 69-99 are 1900s, 00-68 the 2000s.
fn full_year(digits: &str) -> Option<i16> {
    let n: i16 = digits.parse().ok()?;
    match digits.len() {
        4 => Some(n),
        2 if n >= 69 => Some(1900 + n),
        2 => Some(2000 + n),
        _ => None,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn month_number(word: &str) -> Option<u8> {
    let w = word.to_ascii_lowercase();
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (0..12)
        .find(|&i| w == MONTHS[i] || w == full[i] || (i == 8 && w == "sept"))
        .map(|i| i as u8 + 1)
}

fn is_weekday(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    w.len() >= 3 && WEEKDAYS.iter().any(|d| w.starts_with(d))
}

/// Reads a non-empty date cell.
pub fn read(text: &str) -> Reading {
    let t = text.trim();
    // A serial number (days since 1899-12-30, as spreadsheets count) or a compact 20240314.
    if let Some(whole) = t.strip_suffix(".0").or(Some(t)).filter(|w| is_number(w)) {
        let whole = whole.split('.').next().unwrap_or(whole);
        if whole.len() == 8 && !t.contains('.') {
            let d = date(
                whole[..4].parse().unwrap_or(0),
                whole[4..6].parse().unwrap_or(0),
                whole[6..].parse().unwrap_or(0),
            );
            return d.map_or(Reading::Unreadable, Reading::Date);
        }
        return match whole.parse::<i64>() {
            Ok(n) if (1..=99_999).contains(&n) => Date::new(1899, 12, 30)
                .ok()
                .and_then(|base| base.checked_add(jiff::Span::new().days(n)).ok())
                .map_or(Reading::Unreadable, Reading::Date),
            _ => Reading::Unreadable,
        };
    }
    // The date part: tokens of digits or letters, up to a time ("14:30", "T09:00").
    let mut tokens: Vec<&str> = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        // A token starts at an ASCII digit or a letter, so it is never empty ("²" is neither).
        let start = rest
            .find(|c: char| c.is_ascii_digit() || c.is_alphabetic())
            .unwrap_or(rest.len());
        // Between the parts only separators: "1²/3/2024" is no date.
        if !rest[..start].chars().all(|c| c.is_whitespace() || "/-.,".contains(c)) {
            return Reading::Unreadable;
        }
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let first = rest.chars().next().unwrap_or(' ');
        let end = rest
            .find(|c: char| {
                if first.is_ascii_digit() {
                    !c.is_ascii_digit()
                } else {
                    !c.is_alphabetic()
                }
            })
            .unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        if after.starts_with(':') {
            break; // a time begins: the date is over
        }
        tokens.push(token);
        rest = after;
    }
    // ISO's `T` between date and time, and AM/PM after a time cut short, say nothing.
    tokens.retain(|w| !(w.eq_ignore_ascii_case("t") || w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm")));
    tokens.retain(|w| !is_weekday(w) || month_number(w).is_some());
    let numbers: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let words: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    match (words.as_slice(), numbers.as_slice()) {
        ([], [y, m, d]) if y.len() == 4 => {
            let d = date(y.parse().unwrap_or(0), m.parse().unwrap_or(0), d.parse().unwrap_or(0));
            d.map_or(Reading::Unreadable, Reading::Date)
        }
        ([], [a, b, y]) if a.len() <= 2 && b.len() <= 2 => match full_year(y) {
            Some(year) => Reading::Numeric {
                first: a.parse().unwrap_or(0),
                second: b.parse().unwrap_or(0),
                year,
            },
            None => Reading::Unreadable,
        },
        ([month], [a, b]) => {
            let Some(month) = month_number(month) else {
                return Reading::Unreadable;
            };
            // "14 Mar 2024", "Mar 14, 2024", "14-Mar-24": the year is the four-digit number,
            // else the last one.
            let (day, year) = if a.len() == 4 { (b, a) } else { (a, b) };
            match (day.parse::<u8>().ok(), full_year(year)) {
                (Some(day), Some(year)) if day.to_string().len() <= 2 => {
                    date(year, month, day).map_or(Reading::Unreadable, Reading::Date)
                }
                _ => Reading::Unreadable,
            }
        }
        _ => Reading::Unreadable,
    }
}

fn is_number(text: &str) -> bool {
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("0");
    !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A date cell under `--date-format PATTERN`: ISO and serial numbers still read, anything else
/// by the pattern.
pub fn read_with(text: &str, pattern: &str) -> Option<Date> {
    match read(text) {
        Reading::Date(d) => Some(d),
        _ => Date::strptime(pattern, text.trim()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn every_spelling_of_one_day() {
        for text in [
            "2024-03-14",
            "2024-03-14T09:30:00",
            "2024-03-14 00:00:00",
            "2024/03/14",
            "20240314",
            "45365",
            "45365.0",
            "14 Mar 2024",
            "Mar 14, 2024",
            "14-Mar-24",
            "Thursday, March 14, 2024",
            "14/03/2024",
            "14.03.2024",
            "3/14/2024 0:00",
            "03/14/24",
        ] {
            let r = read(text);
            let got = r.date(r.forces().unwrap_or(Order::DayFirst));
            assert_eq!(got, Some(d(2024, 3, 14)), "{text}");
        }
    }

    #[test]
    fn orders_and_ambiguity() {
        assert_eq!(read("25/03/2024").forces(), Some(Order::DayFirst));
        assert_eq!(read("03/25/2024").forces(), Some(Order::MonthFirst));
        let r = read("03/04/2024");
        assert!(r.is_ambiguous() && r.forces().is_none());
        assert_eq!(r.date(Order::DayFirst), Some(d(2024, 4, 3)));
        assert_eq!(r.date(Order::MonthFirst), Some(d(2024, 3, 4)));
        assert!(!read("04/04/2024").is_ambiguous());
    }

    #[test]
    fn not_dates() {
        for text in [
            "soon",
            "²³",
            "1²/3/2024",
            "99999999999999999999",
            "2024-02-30",
            "13/13/2024",
            "12/2024",
            "n/a",
            "31 Foo 2024",
            "-5",
        ] {
            let r = read(text);
            assert!(
                r.date(Order::DayFirst).is_none() && r.date(Order::MonthFirst).is_none(),
                "{text}: {r:?}"
            );
        }
    }

    proptest::proptest! {
        /// Any cell text is a date or not, never a panic or a hang; a date read day first is
        /// read back the same from its ISO form.
        #[test]
        fn any_text_reads_without_panicking(text in "\\PC{0,24}") {
            let r = read(&text);
            for order in [Order::DayFirst, Order::MonthFirst] {
                if let Some(d) = r.date(order) {
                    proptest::prop_assert_eq!(read(&d.to_string()), Reading::Date(d));
                }
            }
            let _ = read_with(&text, "%d.%m.%Y");
        }
    }

    #[test]
    fn a_pattern_reads_what_nothing_else_does() {
        assert_eq!(read_with("14.03.2024", "%d.%m.%Y"), Some(d(2024, 3, 14)));
        assert_eq!(read_with("2024-03-14", "%d.%m.%Y"), Some(d(2024, 3, 14)));
        assert_eq!(read_with("March 2024", "%d.%m.%Y"), None);
        assert!(DateFormat::parse("YMD?").is_err());
        assert_eq!(DateFormat::parse("dmy").unwrap(), DateFormat::Order(Order::DayFirst));
    }
}
