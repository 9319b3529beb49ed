//! Reading results: paired comparisons of scenarios, knees of sweeps, expectations.

pub mod calibration;
pub mod compare;
pub mod expect;
pub mod fingerprint;
pub mod knee;
pub mod ladder;
pub mod metastability_map;
pub mod size;
pub mod spreadsheet;
pub mod sweep;
pub mod tip_over;
