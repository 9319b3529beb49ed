//! Verdicts in colour on a terminal: the reports stay plain text (they are written to files
//! too), and the command line paints their verdict words as it prints them — good ones green,
//! bad ones red, undecided ones yellow. Nothing is painted when standard output is not a
//! terminal or `NO_COLOR` is set to anything (<https://no-color.org>); `CLICOLOR_FORCE` set to
//! anything but "0" paints a pipe too.
//!
//! Only whole words are painted ("MET" inside "METASTABLE" is not), and only after the report
//! has laid out its columns: the escape codes take no room on a terminal, so tables stay aligned.

use std::ffi::OsStr;

/// The colour a verdict is painted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Colour {
    /// Met, fits, passes: nothing to do.
    Green,
    /// Breached, failed, tipped over, cut short: something to act on.
    Red,
    /// Too close to call, partial, a warning: look closer.
    Yellow,
}

impl Colour {
    /// The ANSI escape that starts it.
    fn escape(self) -> &'static str {
        match self {
            Colour::Green => "\x1b[32m",
            Colour::Red => "\x1b[31m",
            Colour::Yellow => "\x1b[33m",
        }
    }
}

/// The ANSI escape that ends a colour.
const RESET: &str = "\x1b[0m";

/// Every verdict the reports print (report::headline, table, compare, sweep, size, metastability,
/// calibration; analysis::expect for `capsim check`) and its colour. A phrase is painted whole.
const VERDICTS: &[(&str, Colour)] = &[
    ("MET", Colour::Green),
    ("HELD", Colour::Green),
    ("FITS", Colour::Green),
    ("PASS", Colour::Green),
    ("SIZED", Colour::Green),
    ("BREACHED", Colour::Red),
    ("BROKE", Colour::Red),
    ("FAIL", Colour::Red),
    ("FAILED", Colour::Red),
    ("MISFIT", Colour::Red),
    ("INFEASIBLE", Colour::Red),
    ("METASTABLE", Colour::Red),
    ("UNSTABLE", Colour::Red),
    ("INCOMPLETE", Colour::Red),
    ("STOPPED EARLY", Colour::Red),
    ("STOPPED", Colour::Red),
    ("MISSED", Colour::Red),
    ("NOT ALL DONE", Colour::Red),
    ("NOT RUN", Colour::Red),
    ("UNCERTAIN", Colour::Yellow),
    ("TOO CLOSE TO CALL", Colour::Yellow),
    ("PARTIAL", Colour::Yellow),
    ("NOT JUDGED", Colour::Yellow),
    ("WARNING", Colour::Yellow),
    ("WARNINGS", Colour::Yellow),
];

/// Whether standard output gets colour: it is a terminal (or `CLICOLOR_FORCE` asks for colour
/// anyway) and `NO_COLOR` is not set.
pub(crate) fn on_stdout() -> bool {
    use std::io::IsTerminal as _;
    wanted(
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("CLICOLOR_FORCE").as_deref(),
        std::io::stdout().is_terminal(),
    )
}

/// Whether to paint, given `NO_COLOR` and `CLICOLOR_FORCE` (as set, if at all) and whether the
/// output is a terminal. `NO_COLOR` wins; either set to the empty string counts as unset.
fn wanted(no_color: Option<&OsStr>, force: Option<&OsStr>, terminal: bool) -> bool {
    let set = |v: Option<&OsStr>| v.is_some_and(|v| !v.is_empty());
    if set(no_color) {
        return false;
    }
    terminal || (set(force) && force != Some(OsStr::new("0")))
}

/// `text` with every verdict word in its colour (see [`VERDICTS`]).
pub(crate) fn paint(text: &str) -> String {
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut after_word = false;
    while let Some(c) = rest.chars().next() {
        let verdict = (!after_word)
            .then(|| {
                VERDICTS
                    .iter()
                    .filter(|(word, _)| rest.strip_prefix(word).is_some_and(|tail| !tail.starts_with(word_char)))
                    .max_by_key(|(word, _)| word.len())
            })
            .flatten();
        match verdict {
            Some((word, colour)) => {
                out.push_str(colour.escape());
                out.push_str(word);
                out.push_str(RESET);
                rest = &rest[word.len()..];
                after_word = true;
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                after_word = word_char(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a terminal shows: the text without its escape codes.
    fn visible(text: &str) -> String {
        let mut out = String::new();
        let mut escape = false;
        for c in text.chars() {
            match (escape, c) {
                (false, '\x1b') => escape = true,
                (true, 'm') => escape = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    }

    #[test]
    fn each_verdict_word_is_painted_in_its_colour() {
        assert_eq!(paint("p99 MET"), "p99 \x1b[32mMET\x1b[0m");
        assert_eq!(paint("BREACHED."), "\x1b[31mBREACHED\x1b[0m.");
        assert_eq!(paint("(UNCERTAIN)"), "(\x1b[33mUNCERTAIN\x1b[0m)");
    }

    #[test]
    fn only_whole_words_are_painted() {
        assert_eq!(paint("METASTABLE in 3 of 4"), "\x1b[31mMETASTABLE\x1b[0m in 3 of 4");
        assert_eq!(paint("METRIC MET_x xMET met Met"), "METRIC MET_x xMET met Met");
    }

    #[test]
    fn a_phrase_is_painted_whole() {
        assert_eq!(paint("TOO CLOSE TO CALL"), "\x1b[33mTOO CLOSE TO CALL\x1b[0m");
        assert_eq!(paint("STOPPED EARLY: x"), "\x1b[31mSTOPPED EARLY\x1b[0m: x");
    }

    #[test]
    fn a_table_keeps_its_alignment() {
        let table = "  api  p99 <= 500ms  45.2 ±9.4 ms     MET\n  db   p99 <= 3s        656 ±27 ms  BREACHED\n  métro  x           UNCERTAIN\n";
        let painted = paint(table);
        assert_ne!(painted, table);
        assert_eq!(visible(&painted), table);
    }

    #[test]
    fn no_color_set_means_no_colour_even_on_a_terminal_or_forced() {
        let on = Some(OsStr::new("1"));
        assert!(!wanted(on, None, true));
        assert!(!wanted(on, on, true));
        assert!(wanted(Some(OsStr::new("")), None, true), "an empty NO_COLOR counts as unset");
    }

    #[test]
    fn not_a_terminal_means_no_colour_unless_forced() {
        assert!(!wanted(None, None, false));
        assert!(!wanted(None, Some(OsStr::new("0")), false));
        assert!(wanted(None, Some(OsStr::new("1")), false));
        assert!(wanted(None, None, true));
    }
}
