//! The man page, generated from the clap definitions: one page for the whole tool with a
//! section per command, since the commands' own flags are where the work is and one page is
//! what an archive ships and `man -l` opens (clap_mangen alone would list the commands and
//! point at `velt-groups-import(1)` pages that nobody installs).

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::Cli;

/// The page, in roff.
pub(super) fn render() -> std::io::Result<Vec<u8>> {
    let mut cli = Cli::command();
    cli.build();
    let man = |cmd: clap::Command| {
        Man::new(cmd)
            .source(concat!("velt-groups ", env!("CARGO_PKG_VERSION")))
            .manual("User Commands")
    };
    let top = man(cli.clone());
    let mut page = Vec::new();
    top.render_title(&mut page)?;
    top.render_name_section(&mut page)?;
    top.render_synopsis_section(&mut page)?;
    top.render_description_section(&mut page)?;
    top.render_options_section(&mut page)?;
    for sub in cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let heading = format!("VELT-GROUPS {}", sub.get_name().to_uppercase());
        let options = format!("{heading} OPTIONS");
        let sub = sub.clone().mut_args(|a| {
            if a.is_global_set() {
                a.hide(true)
            } else {
                a.help_heading(options.clone())
            }
        });
        let sub = man(sub);
        let mut section = Vec::new();
        sub.render_synopsis_section(&mut section)?;
        sub.render_description_section(&mut section)?;
        sub.render_options_section(&mut section)?;
        // One section per command: its synopsis under its name, its description run on.
        let text = String::from_utf8_lossy(&section)
            .replacen(".SH SYNOPSIS", &format!(".SH \"{heading}\""), 1)
            .replacen(".SH DESCRIPTION\n", ".PP\n", 1);
        page.extend_from_slice(text.as_bytes());
    }
    top.render_version_section(&mut page)?;
    Ok(page)
}
