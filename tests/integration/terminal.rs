//! The terminal: verdicts in colour only on a terminal (or when forced), never in a pipe or
//! with `NO_COLOR`; and the progress hook the command line draws its bar from, told of every
//! replication once without changing any result.

use crate::{capsim_in_env, example};
use capsim::replications::Progress;
use capsim::workflow::Runner;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// A quick run of the quickstart whose shoppers' p99 SLO is breached (and others met).
fn breached_run(vars: &[(&str, &str)]) -> crate::Run {
    let model = example("quickstart.json");
    let args = [
        "run",
        model.to_str().expect("a UTF-8 path"),
        "--duration",
        "3m",
        "--warmup",
        "30s",
        "--replications",
        "3",
        "--set",
        "slos.shoppers.p99=1ms",
    ];
    let run = capsim_in_env(&args, vars);
    run.expect_code(0).stdout_has("BREACHED").stdout_has("MET");
    run
}

#[test]
fn a_piped_report_has_no_escape_codes_even_with_verdicts() {
    let run = breached_run(&[("CLICOLOR_FORCE", ""), ("NO_COLOR", "")]);
    assert!(!run.stdout_bytes.contains(&0x1b), "ESC in piped stdout:\n{}", run.stdout);
    assert!(
        !run.stderr.contains('\x1b'),
        "ESC in piped stderr (a progress bar?):\n{}",
        run.stderr
    );
}

#[test]
fn clicolor_force_paints_breached_red_and_met_green_in_a_pipe() {
    let run = breached_run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]);
    run.stdout_has("\x1b[31mBREACHED\x1b[0m").stdout_has("\x1b[32mMET\x1b[0m");
    assert!(
        !run.stderr.contains('\x1b'),
        "no bar drawn on a piped stderr:\n{}",
        run.stderr
    );
}

#[test]
fn no_color_wins_over_clicolor_force() {
    let run = breached_run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!run.stdout_bytes.contains(&0x1b), "ESC with NO_COLOR set:\n{}", run.stdout);
}

/// A small model: one client, one service, `replications` replications.
fn small_model(replications: u32) -> capsim::model::Model {
    let json = format!(
        r#"{{"duration": "2m", "replications": {replications}, "seed": 5,
            "clients": {{"web": {{"open": {{"rate": "40/s"}}, "calls": "api.get"}}}},
            "services": {{"api": {{"workers": 2, "endpoints": {{"get": [{{"cpu": "exp(20ms)"}}]}}}}}}}}"#
    );
    capsim::model::parse_model(&json, "small.json").expect("a valid model").model
}

#[test]
fn the_progress_hook_is_told_of_every_replication_once_counting_up_to_the_total() {
    let model = small_model(7);
    let told = Mutex::new(Vec::new());
    let hook = |p: Progress| told.lock().unwrap().push(p);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    Runner::on(&pool, &AtomicBool::new(false)).watched(&hook).run(&model, &[]);
    let told = told.into_inner().unwrap();
    let expected: Vec<Progress> = (1..=7).map(|done| Progress { done, of: 7 }).collect();
    assert_eq!(told, expected);
}

#[test]
fn replications_cut_short_still_count_as_done() {
    let model = small_model(5);
    let told = Mutex::new(0);
    let hook = |_: Progress| *told.lock().unwrap() += 1;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let result = Runner::on(&pool, &AtomicBool::new(true)).watched(&hook).run(&model, &[]);
    assert!(!result.verdict.complete, "an interrupted run says it is incomplete");
    assert_eq!(told.into_inner().unwrap(), 5);
}

#[test]
fn results_are_byte_identical_with_and_without_a_progress_hook() {
    let model = small_model(6);
    let unwatched = capsim::report::json::to_json(&Runner::new().run(&model, &[]));
    let hook = |_: Progress| {};
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    let watched = Runner::on(&pool, &AtomicBool::new(false)).watched(&hook).run(&model, &[]);
    assert_eq!(capsim::report::json::to_json(&watched), unwatched);
}
