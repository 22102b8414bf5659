//! Writes a generated employee export for trying velt-groups at scale.
//!
//! `cargo run --release --example gen_employees -- OUT.csv|OUT.xlsx [ROWS] [DEPARTMENTS]`
//! (defaults: 1,000,000 rows, 5,000 departments).

#[path = "../benches/support/gen.rs"]
mod gen;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: gen_employees OUT.csv|OUT.xlsx [ROWS] [DEPARTMENTS]")?,
    );
    let rows = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let departments = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let bytes = if out.extension().is_some_and(|e| e == "xlsx") {
        gen::employees_xlsx(&out, rows, departments)?
    } else {
        gen::employees_csv(&out, rows, departments)?
    };
    eprintln!(
        "wrote {} ({rows} rows, {departments} departments, {bytes} bytes)",
        out.display()
    );
    Ok(())
}
