//! Fuzz and property tests of capsim: text parsers, model loading and running, and absurd-but-valid
//! numbers must never panic, hang or allocate without bound.
//!
//! - [`parsers`]: units, distributions, sweep values, shards, claims, overlay changes.
//! - [`models`]: arbitrary JSON biased toward the model's keys, and mutations of the example
//!   models; those that validate are run with a tiny budget (in forked children with a timeout
//!   and a memory cap) and must conserve their requests.
//! - [`extremes`]: one valid model per absurd number, each in a child process with a timeout
//!   and a memory cap.
//! - [`shards`]: `capsim merge` on shard files, realistic then edited.
//! - [`traces`]: trace files in every format, edited or with odd values anywhere: read or refused
//!   naming the file, and whatever model is inferred validates.
//! - [`outputs`]: output flags pointed at devices, links, directories, missing or read-only
//!   places and stdout: the documented exit code, the target untouched, no panic.
//! - [`known_bugs`]: the failing cases found so far, one test each (they fail until fixed, and
//!   stay as regressions after).
//!
//! Case counts: `PROPTEST_CASES` when set, else small defaults that keep the binary well under a
//! minute of CPU. A failing case prints its seed and is saved beside this file
//! (`tests/fuzz/*.proptest-regressions`), then replayed first on every run.
//!
//! Knobs: `FUZZ_SKIP_KNOWN_BUGS=1` keeps the properties off inputs that only hit an open bug of
//! [`known_bugs`] (for soaks looking for new ones); `FUZZ_STATS=1` with `--nocapture` prints how
//! many mutated models validate and run (`FUZZSTAT` lines); `FUZZ_TIMEOUT_SCALE` multiplies the
//! hang detectors (10-20 s for work that takes milliseconds) on slow machines.

mod alloc;
mod extremes;
mod known_bugs;
mod models;
mod outputs;
mod parsers;
mod shards;
mod support;
mod traces;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;
