//! A whole number as a sheet displays it under its number format, for the formats that change
//! an ID: `0000` shows 1 as `0001`, `"E"000` as `E001`. An HR system's employee number kept in
//! a cell formatted so is `0001` to everyone who looks at it, and to a CSV export of the sheet;
//! the bare value `1` would be another user.
//!
//! Only digit placeholders (`0`, `#`) and literal text are understood; any other format
//! (decimals, thousands, percent, dates, colors, conditions) returns `None` and the value is
//! shown as before.

/// The text `value` shows under the format `code`, when the format pads or decorates a whole
/// number; `None` for `General` and every format this does not cover.
pub fn display(value: f64, code: &str) -> Option<String> {
    if value.fract() != 0.0 || value.abs() >= 1e15 || code.eq_ignore_ascii_case("general") {
        return None;
    }
    let sections = split_sections(code);
    let (section, sign) = match (value < 0.0, sections.get(1)) {
        // A second section is the format of negative numbers, written without the sign.
        (true, Some(negative)) => (negative.as_str(), ""),
        (true, None) => (sections[0].as_str(), "-"),
        (false, _) => (sections[0].as_str(), ""),
    };
    let parts = parse(section)?;
    let zeros = parts.iter().filter(|p| matches!(p, Part::Digit(true))).count();
    let places = parts.iter().filter(|p| matches!(p, Part::Digit(_))).count();
    if places == 0 || (zeros <= 1 && parts.iter().all(|p| matches!(p, Part::Digit(_)))) {
        // `0`, `#`, `##`: the number as General shows it.
        return None;
    }
    let digits = format!("{:0zeros$}", value.abs() as u64);
    let digits = if digits == "0" && zeros == 0 {
        String::new()
    } else {
        digits
    };
    // Digits fill the placeholders from the right; the leftmost takes whatever is left.
    let mut rest: &str = &digits;
    let mut filled: Vec<String> = vec![String::new(); parts.len()];
    let mut seen = 0;
    for (i, part) in parts.iter().enumerate().rev() {
        if let Part::Digit(_) = part {
            seen += 1;
            let take = if seen == places { rest.len() } else { rest.len().min(1) };
            filled[i] = rest[rest.len() - take..].to_owned();
            rest = &rest[..rest.len() - take];
        }
    }
    let mut out = String::from(sign);
    for (part, digits) in parts.iter().zip(filled) {
        match part {
            Part::Digit(_) => out.push_str(&digits),
            Part::Text(t) => out.push_str(t),
        }
    }
    Some(out)
}

enum Part {
    /// A digit placeholder: `0` (always shown) or `#` (shown when needed).
    Digit(bool),
    /// Literal text.
    Text(String),
}

/// The `;`-separated sections, quotes respected.
fn split_sections(code: &str) -> Vec<String> {
    let mut sections = vec![String::new()];
    let (mut quoted, mut escaped) = (false, false);
    for ch in code.chars() {
        if escaped {
            escaped = false;
        } else if ch == '\\' && !quoted {
            escaped = true;
        } else if ch == '"' {
            quoted = !quoted;
        } else if ch == ';' && !quoted {
            sections.push(String::new());
            continue;
        }
        sections.last_mut().expect("one section at least").push(ch);
    }
    sections
}

/// The placeholders and literals of one section; `None` for anything else.
fn parse(section: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut chars = section.chars();
    let text = |parts: &mut Vec<Part>, t: &str| match parts.last_mut() {
        Some(Part::Text(s)) => s.push_str(t),
        _ => parts.push(Part::Text(t.to_owned())),
    };
    while let Some(ch) = chars.next() {
        match ch {
            '0' => parts.push(Part::Digit(true)),
            '#' => parts.push(Part::Digit(false)),
            '"' => {
                let quoted: String = chars.by_ref().take_while(|&c| c != '"').collect();
                text(&mut parts, &quoted);
            }
            '\\' => text(&mut parts, &chars.next()?.to_string()),
            '-' | ' ' | '(' | ')' | ':' | '/' | '+' | '$' => text(&mut parts, &ch.to_string()),
            _ => return None,
        }
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::display;

    #[test]
    fn whole_numbers_as_the_sheet_shows_them() {
        for (value, code, want) in [
            (1.0, "0000", Some("0001")),
            (42.0, "000000", Some("000042")),
            (12345.0, "0000", Some("12345")),
            (7.0, "\"E\"000", Some("E007")),
            (7.0, "\\E\\-000", Some("E-007")),
            (12345.0, "00-000", Some("12-345")),
            (5.0, "#000", Some("005")),
            (-3.0, "0000", Some("-0003")),
            (-3.0, "0000;(0000)", Some("(0003)")),
            (1.0, "General", None),
            (1.0, "0", None),
            (1.5, "0000", None),
            (1.0, "0.00", None),
            (1000.0, "#,##0", None),
            (1.0, "0%", None),
            (1.0, "[Red]0000", None),
            (1.0, "@", None),
        ] {
            assert_eq!(display(value, code).as_deref(), want, "{value} {code}");
        }
    }
}
