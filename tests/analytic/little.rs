//! Little's law, L = λ·W, on every station of models/quickstart.json: a model with a traffic
//! profile, timeouts, retries, a connection pool and a database — Little's law needs none of the
//! assumptions of the other tests, only that the measured quantities are consistent.
//!
//! Both sides are estimates with confidence intervals, so the test asks that their intervals
//! overlap, with λ·W's interval propagated from those of λ and W:
//!
//! * Interval arithmetic: for λ ∈ [λ̄ ± a] and W ∈ [W̄ ± b], both positive, λ·W lies within
//!   λ̄·W̄ ± (W̄·a + λ̄·b + a·b); a sum of such terms within the sum of their half-widths.
//! * Product of means: per replication L = λ·W, so the mean of L estimates the mean of the
//!   products, and mean(λ·W) − λ̄·W̄ = (n − 1)/n · cov(λ, W) (sample covariance). By
//!   Cauchy–Schwarz |cov| ≤ s_λ·s_W, and each sample sd is s = ci95·√n / t with t > 1.96, so the gap
//!   is at most (n − 1)·a·b / 1.96². This margin is added too.
//! * The sum of two estimates (queue + busy cores) has a CI half-width of at most the sum of
//!   theirs (the sd of a sum is at most the sum of the sds).

use capsim::results::RunResult;
use capsim::stats::Estimate;
use std::sync::OnceLock;

/// Standard normal quantile at 0.975: every Student t quantile at 0.975 exceeds it.
const Z_975: f64 = 1.96;

/// models/quickstart.json as shipped: 10 replications of 1 h (2 min warm-up).
fn quickstart() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/quickstart.json");
        let validated = capsim::model::load_model(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let result = capsim::run(&validated.model, &[], None);
        assert!(
            result.verdict.complete,
            "quickstart did not complete: {:?}",
            result.verdict.messages
        );
        result
    })
}

/// A value and the half-width of an interval that holds it.
#[derive(Clone, Copy, Debug, Default)]
struct Interval {
    mean: f64,
    half: f64,
    /// Margin for the product-of-means gap, kept apart to name it in messages.
    covariance_margin: f64,
}

impl Interval {
    /// The 95 % confidence interval of an estimate.
    fn of(e: &Estimate) -> Interval {
        assert!(
            e.n >= 2 && e.mean.is_finite(),
            "an estimate over 2 or more replications: {e:?}"
        );
        Interval {
            mean: e.mean,
            half: e.ci95,
            covariance_margin: 0.0,
        }
    }

    /// λ·W from two estimates (module docs: interval arithmetic plus the covariance margin).
    fn product(x: &Estimate, w: &Estimate) -> Interval {
        let (xi, wi) = (Interval::of(x), Interval::of(w));
        assert_eq!(x.n, w.n, "estimates over the same replications: {x:?} {w:?}");
        assert!(x.low() >= 0.0 && w.low() >= 0.0, "positive quantities: {x:?} {w:?}");
        let (a, b) = (xi.half, wi.half);
        Interval {
            mean: xi.mean * wi.mean,
            half: wi.mean * a + xi.mean * b + a * b,
            covariance_margin: (x.n - 1) as f64 * a * b / (Z_975 * Z_975),
        }
    }

    /// The interval of `k` times the value (`k` > 0).
    fn scaled(self, k: f64) -> Interval {
        Interval {
            mean: k * self.mean,
            half: k * self.half,
            covariance_margin: k * self.covariance_margin,
        }
    }

    /// The interval of a sum (module docs: half-widths add).
    fn plus(self, other: Interval) -> Interval {
        Interval {
            mean: self.mean + other.mean,
            half: self.half + other.half,
            covariance_margin: self.covariance_margin + other.covariance_margin,
        }
    }
}

/// Assert that the interval of the mean number inside, `l`, overlaps that of `lambda_w`.
#[track_caller]
fn assert_littles_law(what: &str, l: Interval, lambda_w: Interval) {
    let gap = (l.mean - lambda_w.mean).abs();
    let allowed = l.half + lambda_w.half + lambda_w.covariance_margin;
    assert!(
        gap <= allowed,
        "{what}: L = {:.6} ± {:.6} but λ·W = {:.6} ± {:.6} (propagated CIs) ± {:.6} (product of means): \
         gap {gap:.6} > {allowed:.6}",
        l.mean,
        l.half,
        lambda_w.mean,
        lambda_w.half,
        lambda_w.covariance_margin
    );
}

#[test]
fn littles_law_holds_for_every_service_of_quickstart() {
    let r = quickstart();
    assert!(r.services.len() >= 2, "quickstart has services");
    for service in &r.services {
        let prefix = format!("{}.", service.name);
        let endpoints: Vec<_> = r.endpoints.iter().filter(|e| e.name.starts_with(&prefix)).collect();
        assert!(
            !endpoints.is_empty(),
            "service {} has no endpoint in the result",
            service.name
        );
        let lambda_w = endpoints
            .iter()
            .map(|e| Interval::product(&e.throughput_per_s, &e.sojourn_ms))
            .fold(Interval::default(), Interval::plus)
            .scaled(1e-3); // W in ms: λ·W in requests needs seconds.
        let what = format!("service {} in_service", service.name);
        assert_littles_law(&what, Interval::of(&service.in_service), lambda_w);
    }
}

#[test]
fn littles_law_holds_for_the_database_of_quickstart() {
    let r = quickstart();
    assert!(!r.databases.is_empty(), "quickstart has a database");
    for db in &r.databases {
        // Queries in the database: waiting for a core plus running on one.
        let inside = Interval::of(&db.queue_length).plus(Interval::of(&db.utilisation).scaled(f64::from(db.cores)));
        let lambda_w = Interval::product(&db.queries_per_s, &db.query_time.mean_ms).scaled(1e-3);
        assert_littles_law(&format!("database {} queries inside", db.name), inside, lambda_w);
    }
}
