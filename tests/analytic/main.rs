//! Analytic validation of capsim: the engine against queueing theory.
//!
//! Each test runs a model whose answer is known in closed form (M/M/1, M/M/c, M/D/1, M/G/1,
//! Erlang B loss, a Jackson tandem, Little's law) and asserts that the analytic value lies in
//! the 95 % confidence interval of the replications (Student t across independent
//! replications, as capsim reports it). Seeds are fixed, so every run is reproducible.
//!
//! Means are compared exactly: capsim keeps exact sums next to its histograms. The only widened
//! comparisons are named where they are made, each with the known bias that justifies it (the
//! histogram's relative resolution for a percentile; the product of two estimates for Little's law).
//!
//! Several claims about one model share a single run ([`std::sync::OnceLock`]), so the suite
//! stays cheap: rates of order 100/s and 30–60 simulated minutes per replication.
//!
//! Reading a failure: a 95 % interval misses the true value for about one seed in 20, and this
//! suite checks a few dozen of them, so a change to the random streams can make one claim fail
//! (claims about the same run fail together) with a correct engine. Before blaming the engine,
//! rerun the model with many more replications (e.g. 200): a real bias stays outside the much
//! narrower interval, while bad luck disappears.

mod contention;
mod formulas;
mod hedging;
mod little;
mod loss;
mod mg1;
mod mm1;
mod mmc;
mod priority;
mod processor_sharing;
mod sizing;
mod tandem;

use capsim::results::RunResult;
use capsim::stats::Estimate;

/// Parse, validate and run a model given as JSON text; the run must complete and the model must
/// carry no validation warning (an analytic model is a clean one).
pub fn run_json(json: &str, file: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, file).unwrap_or_else(|e| panic!("{file} is not a valid model: {e}"));
    assert!(
        validated.warnings.is_empty(),
        "{file}: unexpected warnings {:?}",
        validated.warnings
    );
    let result = capsim::run(&validated.model, &[], None);
    assert!(
        result.verdict.complete,
        "{file}: the run did not complete: {:?}",
        result.verdict.messages
    );
    result
}

/// `"c/s"`: a rate in the model format.
pub fn rate(per_s: f64) -> String {
    format!("{per_s}/s")
}

/// `"xms"`: a duration in the model format.
pub fn ms(value: f64) -> String {
    format!("{value}ms")
}

/// Assert that `expected` lies in the 95 % confidence interval of `got`.
#[track_caller]
pub fn assert_in_ci(what: &str, got: &Estimate, expected: f64) {
    assert_in_widened_ci(what, got, expected, 0.0, "no widening");
}

/// Assert that `expected` lies in the 95 % confidence interval of `got` widened by `margin` on
/// each side; `why` names the known bias the margin covers, for the failure message.
#[track_caller]
pub fn assert_in_widened_ci(what: &str, got: &Estimate, expected: f64, margin: f64, why: &str) {
    assert!(got.n >= 2, "{what}: {} replications measured it, a CI needs 2", got.n);
    assert!(expected.is_finite(), "{what}: the analytic value {expected} is not finite");
    let (low, high) = (got.low() - margin, got.high() + margin);
    assert!(
        low <= expected && expected <= high,
        "{what}: analytic {expected:.6} outside the 95 % CI [{low:.6}, {high:.6}] \
         (mean {:.6} ± {:.6}, margin {margin:.6}: {why}, n = {}, range [{:.6}, {:.6}])",
        got.mean,
        got.ci95,
        got.n,
        got.min,
        got.max
    );
}
