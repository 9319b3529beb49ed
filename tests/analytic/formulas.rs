//! Closed-form results of queueing theory used as the expected values of this suite, with their
//! own checks against textbook values.

/// Erlang B: the blocking probability of an M/G/c/c loss system with offered load `a` = λ·E[S]
/// erlangs, by the numerically stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Erlang C: the probability that an arrival to an M/M/c queue with offered load `a` < c waits,
/// from Erlang B: C = c·B / (c − a·(1 − B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < f64::from(c), "Erlang C needs a stable queue: a = {a} >= c = {c}");
    let b = erlang_b(c, a);
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// Pollaczek–Khinchine: mean wait in queue of an M/G/1 queue with arrival rate `lambda`, mean
/// service `es` and second moment `es2` (consistent units), Wq = λ·E[S²] / (2·(1 − ρ)), ρ = λ·E[S].
pub fn pollaczek_khinchine_wait(lambda: f64, es: f64, es2: f64) -> f64 {
    let rho = lambda * es;
    assert!(rho < 1.0, "Pollaczek–Khinchine needs a stable queue: rho = {rho}");
    lambda * es2 / (2.0 * (1.0 - rho))
}

/// M/M/c mean time in system: Wq + 1/μ with Wq = C(c, a) / (cμ − λ), a = λ/μ, in the unit of
/// 1/μ; infinite when the queue is unstable (a >= c).
pub fn mmc_mean_sojourn(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    if a >= f64::from(c) {
        return f64::INFINITY;
    }
    erlang_c(c, a) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// M/M/c (FIFO) time in system T = Wq + S, its tail P(T > t): Wq is 0 with probability 1 − C and
/// exponential with rate θ = cμ − λ otherwise, S is exponential with rate μ, so
/// P(T > t) = (1 − C)·e^(−μt) + C·(θ·e^(−μt) − μ·e^(−θt)) / (θ − μ) (and C·(1 + μt)·e^(−μt) at θ = μ).
pub fn mmc_sojourn_tail(t: f64, c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    if a >= f64::from(c) {
        return 1.0;
    }
    let (wait, theta) = (erlang_c(c, a), f64::from(c) * mu - lambda);
    let both = if (theta - mu).abs() < 1e-9 * mu {
        (1.0 + mu * t) * (-mu * t).exp()
    } else {
        (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
    };
    (1.0 - wait) * (-mu * t).exp() + wait * both
}

/// The `q` quantile of the M/M/c time in system (in the unit of 1/μ), by bisection on
/// [`mmc_sojourn_tail`]; infinite when the queue is unstable.
pub fn mmc_sojourn_quantile(q: f64, c: u32, lambda: f64, mu: f64) -> f64 {
    if lambda / mu >= f64::from(c) {
        return f64::INFINITY;
    }
    let (mut low, mut high) = (0.0, 1.0 / mu);
    while mmc_sojourn_tail(high, c, lambda, mu) > 1.0 - q {
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mmc_sojourn_tail(mid, c, lambda, mu) > 1.0 - q {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// The textbook sums the recursions replace: B = (a^c/c!) / Σ_{k≤c} a^k/k!, and
    /// C = (a^c/c!)·c/(c−a) / (Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a)).
    fn direct_b_and_c(c: u32, a: f64) -> (f64, f64) {
        let terms: Vec<f64> = (0..=c)
            .scan(1.0, |term, k| {
                if k > 0 {
                    *term *= a / f64::from(k);
                }
                Some(*term)
            })
            .collect();
        let last = terms[c as usize];
        let below: f64 = terms[..c as usize].iter().sum();
        let waiting = last * f64::from(c) / (f64::from(c) - a);
        (last / (below + last), waiting / (below + waiting))
    }

    #[test]
    fn erlang_b_matches_textbook_values() {
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2.
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-15));
        // One server: B(1, a) = a / (1 + a).
        assert!(close(erlang_b(1, 3.0), 0.75, 1e-15));
        // No server blocks everything; no load blocks nothing.
        assert_eq!(erlang_b(0, 2.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        // Erlang B tables: B(10, 5) = 0.0184, B(5, 3) = 0.1101.
        assert!(close(erlang_b(10, 5.0), 0.0184, 5e-5));
        assert!(close(erlang_b(5, 3.0), 0.1101, 5e-5));
    }

    #[test]
    fn erlang_c_matches_textbook_values() {
        // C(2, 1) = 2·0.2 / (2 − 1·0.8) = 1/3.
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-15));
        // One server: the probability of waiting is the utilisation.
        assert!(close(erlang_c(1, 0.8), 0.8, 1e-15));
        // Erlang C tables: C(4, 3) = 0.5094, C(10, 8) = 0.4092.
        assert!(close(erlang_c(4, 3.0), 0.5094, 5e-5));
        assert!(close(erlang_c(10, 8.0), 0.4092, 5e-5));
    }

    #[test]
    fn recursions_match_the_direct_sums() {
        for c in 1..=30 {
            // Offered loads below c, where Erlang C exists.
            for a in [0.1, 0.5, 1.0, 2.5, 0.9 * f64::from(c)]
                .into_iter()
                .filter(|&a| a < f64::from(c))
            {
                let (b, cw) = direct_b_and_c(c, a);
                assert!(close(erlang_b(c, a), b, 1e-12), "B({c}, {a})");
                assert!(close(erlang_c(c, a), cw, 1e-12), "C({c}, {a})");
            }
        }
    }

    #[test]
    fn erlang_b_recursion_stays_finite_where_factorials_overflow() {
        // 200! overflows an f64; the recursion does not care.
        let b = erlang_b(200, 180.0);
        assert!(b.is_finite() && b > 0.0 && b < 1.0, "{b}");
    }

    #[test]
    fn pollaczek_khinchine_reduces_to_known_queues() {
        // M/M/1 (E[S²] = 2/μ²): Wq = ρ/(μ − λ). λ = 80/s, μ = 100/s: 0.8 / 20 = 40 ms.
        assert!(close(pollaczek_khinchine_wait(80.0, 0.01, 2e-4), 0.04, 1e-15));
        // M/D/1 (E[S²] = 1/μ²): half the M/M/1 wait.
        assert!(close(pollaczek_khinchine_wait(80.0, 0.01, 1e-4), 0.02, 1e-15));
    }

    #[test]
    fn the_mmc_sojourn_tail_is_that_of_mm1_for_one_server_and_its_mean_matches_erlang_c() {
        // One server: T is exponential with rate μ − λ.
        let (lambda, mu) = (80.0, 100.0);
        for t in [0.001, 0.01, 0.05, 0.2] {
            assert!(close(mmc_sojourn_tail(t, 1, lambda, mu), (-(mu - lambda) * t).exp(), 1e-9));
        }
        assert!(close(
            mmc_sojourn_quantile(0.9, 1, lambda, mu),
            10f64.ln() / (mu - lambda),
            1e-9
        ));
        // The integral of the tail is the mean (c = 4, a = 3: 15.094 ms, the textbook value).
        let (c, lambda) = (4, 300.0);
        let dt = 1e-5;
        let integral: f64 = (0..200_000)
            .map(|i| mmc_sojourn_tail((i as f64 + 0.5) * dt, c, lambda, mu) * dt)
            .sum();
        assert!(close(integral, mmc_mean_sojourn(c, lambda, mu), 1e-6));
        assert!(close(mmc_mean_sojourn(c, lambda, mu) * 1e3, 15.0943, 1e-4));
    }
}
