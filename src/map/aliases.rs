//! The header synonyms of each role, and the matcher that compares headers with them.
//!
//! A header is matched twice: by its plain key (lower case, letters and digits only: "Home
//! Department Description" = "home_department_description") and by its canonical key, which
//! splits it into words (at spaces, punctuation, `_` and camelCase: "EmpID" -> "Emp", "ID"),
//! expands the abbreviations HR systems use ("Emp" -> employee, "Dept" -> department, "No",
//! "Nbr", "#" -> number) and joins the words again. So "EmpID", "Emp ID", "emp_id" and
//! "Employee ID" are one header, and the tables below list each synonym once, in its canonical
//! form (plus the plain form of all-capital spellings such as "EMPID", which have no word
//! breaks to find).

/// Department-name headers, best tier first.
pub(super) const NAME_ALIASES: &[&[&str]] = &[
    &[
        "department",
        "departmentname",
        "dept",
        "deptname",
        "homedepartmentdescription",
        "homedepartment",
        "departmentdescription",
    ],
    &[
        "supervisoryorganization",
        "groupname",
        "group",
        "team",
        "teamname",
        "usergroup",
        "usergroupname",
        "organizationalunit",
        "orgunit",
    ],
];

/// Department-code headers, best tier first.
pub(super) const ID_ALIASES: &[&[&str]] = &[
    &[
        "departmentid",
        "deptid",
        "departmentcode",
        "deptcode",
        "homedepartmentcode",
        "departmentnumber",
        "deptno",
        "departmentno",
        "groupid",
    ],
    &[
        "teamid",
        "teamcode",
        "supervisoryorganizationid",
        "orgunitid",
        "orgunitcode",
    ],
];

/// Organization headers, best tier first.
pub(super) const ORG_ALIASES: &[&[&str]] = &[
    &["organizationid", "organisationid", "orgid", "veltorganizationid"],
    &[
        "organization",
        "organisation",
        "company",
        "companyid",
        "companycode",
        "companyname",
        "tenant",
        "tenantid",
    ],
];

/// Work e-mail headers: the best user ID, since Velt apps usually sign people in by e-mail.
const WORK_EMAIL: &[&str] = &[
    "workemail",
    "workemailaddress",
    "businessemail",
    "businessemailaddress",
    "primaryworkemail",
    "companyemail",
    "officeemail",
    "emailwork",
    "emailprimarywork",
    "workcontactworkemail",
    "corporateemail",
];

/// Any e-mail header.
const EMAIL: &[&str] = &["email", "emailaddress", "mail", "primaryemail", "emailprimary"];

/// Employee-ID headers: stable identifiers an HR system gives each person.
const EMPLOYEE_ID: &[&str] = &[
    "employeeid",
    "empid",
    "eeid",
    "workerid",
    "associateid",
    "personid",
    "personidexternal",
    "staffid",
    "employeeidentifier",
    "personnelid",
];

/// Employee numbers and codes: identifiers too, but often a payroll or badge number.
const EMPLOYEE_NUMBER: &[&str] = &[
    "employeenumber",
    "empno",
    "empnum",
    "employeeno",
    "personnelnumber",
    "persnumber",
    "pernr",
    "personnumber",
    "workernumber",
    "staffnumber",
    "associatenumber",
    "employeecode",
    "empcode",
    "staffcode",
    "badgeid",
    "badgenumber",
    "filenumber",
    "payrollid",
    "payrollnumber",
];

/// User-ID headers for `--members`, best tier first: a work e-mail, any e-mail, a column that
/// says it holds user IDs, an employee ID, an employee number, and last a bare "Employee".
pub(super) const USER_ALIASES: &[&[&str]] = &[
    WORK_EMAIL,
    EMAIL,
    &["userid"],
    EMPLOYEE_ID,
    EMPLOYEE_NUMBER,
    &["employee"],
];

/// E-mail headers, best tier first; a private address is better than none for a display.
pub(super) const EMAIL_ALIASES: &[&[&str]] = &[
    WORK_EMAIL,
    EMAIL,
    &["personalemail", "privateemail", "homeemail", "personalemailaddress"],
];

/// Full-name headers of an employee list, best tier first (a plain "Name" only counts in an
/// employee list, beside a department column); the last tier only when there are no first and
/// last name columns, since BambooHR's "Preferred Name" holds a first name.
pub(super) const FULL_NAME_ALIASES: &[&[&str]] = &[
    &[
        "fullname",
        "employeename",
        "employeefullname",
        "displayname",
        "preferredfullname",
        "legalname",
        "legalfullname",
        "workername",
        "workerfullname",
        "worker",
        "employee",
        "personname",
        "associatename",
        "staffname",
        "name",
    ],
    &["preferredname", "payrollname", "knownas"],
];

/// First-name headers, best tier first: the name people go by, then the legal one, then a
/// preferred one (often blank when it is the same).
pub(super) const FIRST_NAME_ALIASES: &[&[&str]] = &[
    &[
        "firstname",
        "givenname",
        "forename",
        "first",
        "fname",
        "employeefirstname",
    ],
    &["legalfirstname", "legalnamefirstname"],
    &["preferredfirstname", "preferrednamefirstname", "nickname"],
];

/// Last-name headers, best tier first.
pub(super) const LAST_NAME_ALIASES: &[&[&str]] = &[
    &["lastname", "surname", "familyname", "last", "lname", "employeelastname"],
    &["legallastname", "legalnamelastname"],
    &["preferredlastname", "preferrednamelastname"],
];

/// Parts of headers that only an employee list has (any header containing one of the longer
/// ones counts, the short ones must be the whole header).
pub(super) const PERSON_HINTS: &[&str] = &[
    "email",
    "mail",
    "employee",
    "worker",
    "associate",
    "firstname",
    "lastname",
    "fullname",
    "name",
    "userid",
    "person",
    "preferredname",
    "givenname",
    "surname",
    "jobtitle",
    "staffid",
    "staffnumber",
    "badge",
    "pernr",
    "empid",
    "empno",
    "eeid",
];

/// A header's two keys: its words joined as written (plain), and with abbreviations expanded
/// (canonical). "Emp #" is `empnumber` and `employeenumber`; "EMPID" is `empid` twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Keys {
    plain: String,
    canonical: String,
}

impl Keys {
    /// The keys of one header cell.
    pub(super) fn of(header: &str) -> Self {
        let words = words(header);
        Keys {
            plain: words.concat(),
            canonical: words.iter().map(|w| expand(w)).collect(),
        }
    }

    /// True when either key is one of `tier`.
    pub(super) fn is_in(&self, tier: &[&str]) -> bool {
        tier.contains(&self.plain.as_str()) || tier.contains(&self.canonical.as_str())
    }

    /// True when the header is one that only an employee list has: a person column's, or one
    /// containing a [`PERSON_HINTS`] word.
    pub(super) fn is_person_hint(&self) -> bool {
        let person_tables = [
            USER_ALIASES,
            EMAIL_ALIASES,
            FULL_NAME_ALIASES,
            FIRST_NAME_ALIASES,
            LAST_NAME_ALIASES,
        ];
        person_tables
            .iter()
            .any(|tiers| tiers.iter().any(|tier| self.is_in(tier)))
            || [&self.plain, &self.canonical].iter().any(|k| {
                PERSON_HINTS
                    .iter()
                    .any(|h| k.as_str() == *h || (h.len() > 4 && k.contains(h)))
            })
    }
}

/// The words of a header, lower-cased: split at anything but a letter or digit and at camelCase
/// ("EmpID" -> emp, id; "HRDept" -> hr, dept); `#` is the word "number" ("Employee #").
fn words(header: &str) -> Vec<String> {
    let chars: Vec<char> = header.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut words);
            if c == '#' {
                words.push("number".to_owned());
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).map(|p| &chars[p]) {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let camel =
                c.is_uppercase() && (prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower));
            if camel {
                flush(&mut word, &mut words);
            }
        }
        word.extend(c.to_lowercase());
    }
    flush(&mut word, &mut words);
    words
}

/// The abbreviations HR exports use, as whole words.
fn expand(word: &str) -> &str {
    match word {
        "emp" | "empl" | "ee" => "employee",
        "dept" | "dpt" => "department",
        "no" | "nr" | "num" | "nbr" | "nmbr" => "number",
        "pers" => "personnel",
        "mgr" => "manager",
        // PeopleSoft and other ERP exports: `TERMINATION_DT`, `HIRE_DT`.
        "dt" => "date",
        other => other,
    }
}

#[cfg(test)]
mod tests;
