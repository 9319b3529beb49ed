//! The progress of a long command on standard error: a bar of the replications done, with the
//! time left, drawn only when standard error is a terminal (and the command is not `--quiet`).
//! Elsewhere — a pipe, CI, a test — nothing is drawn and the command's progress lines (the point
//! or configuration it runs) are printed as lines, as they always were.
//!
//! The bar counts replications as the library's progress hook reports them
//! ([`crate::workflow::Runner::watched`]), so it moves once per replication finished; what runs
//! now (the scenario, the point, the configuration tried) is its message.

use crate::replications;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A command's progress: the bar when one is drawn, and what is said when none is.
pub(crate) struct Progress {
    /// The bar, hidden when standard error is not a terminal or the command is quiet.
    bar: ProgressBar,
    /// Whether the command is quiet: its progress lines are left out too.
    quiet: bool,
    /// Whether the runs are not known ahead: the bar grows by each run's replications as it
    /// starts.
    growing: bool,
}

impl Progress {
    /// Progress over `replications` known ahead (every run of `capsim run`, every point of a
    /// sweep): the time left is the whole command's.
    pub(crate) fn over(replications: u64, quiet: bool) -> Progress {
        Progress::new(replications, quiet, false)
    }

    /// Progress over runs not known ahead (a sizing's or a map's searches, a check's runs):
    /// the bar grows by each run's replications as it starts, and the time left is that of the
    /// runs started.
    pub(crate) fn growing(quiet: bool) -> Progress {
        Progress::new(0, quiet, true)
    }

    fn new(replications: u64, quiet: bool, growing: bool) -> Progress {
        use std::io::IsTerminal as _;
        let bar = if !quiet && std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(replications), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} replications ({elapsed}, {eta} left) {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar, quiet, growing }
    }

    /// What the command runs now ("baseline", a scenario's name), as the bar's message; nothing
    /// is said when no bar is drawn.
    pub(crate) fn message(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    /// What the command runs now ("point 3/12: …", "trying …"): the bar's message when it is
    /// drawn, else a line on standard error (none when quiet).
    pub(crate) fn now(&self, what: &str) {
        if !self.bar.is_hidden() {
            self.message(what);
        } else if !self.quiet {
            tell!("{what}");
        }
    }

    /// A line every user should read (a warning, a run stopped): printed above the bar, which
    /// is drawn again below it.
    pub(crate) fn tell(&self, line: &str) {
        self.bar.suspend(|| tell!("{line}"));
    }

    /// The hook to watch the runs with: one step of the bar per replication finished.
    pub(crate) fn hook(&self) -> impl Fn(replications::Progress) + Sync + '_ {
        move |progress: replications::Progress| {
            if self.growing && progress.done == 1 {
                self.bar.inc_length(u64::from(progress.of));
            }
            self.bar.inc(1);
        }
    }
}

impl Drop for Progress {
    /// The bar is wiped when the command is done with it, before its results are printed.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
