//! Statistics for simulation output: latency histograms, time-weighted levels, time series and confidence intervals.

pub mod counts;
pub mod estimate;
mod hdr;
pub mod histogram;
pub mod level;
pub mod nan;
pub mod series;
pub mod wilson;

pub use counts::CountSeries;
pub use estimate::{differs_significantly, Estimate, PairedDifference};
pub use histogram::{LatencyHistogram, SETTLED_QUANTILES};
pub use level::TimeWeighted;
pub use series::{LevelRow, LevelSeries, SeriesRow, WindowSeries};
pub use wilson::wilson_interval;
