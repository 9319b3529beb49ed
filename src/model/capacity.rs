//! Offered load by simple arithmetic: which stations would be over capacity at peak traffic.
//!
//! Arrival rates are propagated from open clients through synchronous calls (retries ignored),
//! and each station's demand is compared with its capacity. This is a lower bound on load, so a
//! warning here means the model cannot be stable at peak, whatever the simulation shows.

use super::error::Diagnostic;
use super::{Arrivals, ConnectionSource, Model, Step};

/// Peak arrival rate (per second) of every endpoint, from open clients' peak rates.
pub fn peak_endpoint_rates(model: &Model) -> Vec<f64> {
    let mut rates = vec![0.0; model.endpoints.len()];
    for client in &model.clients {
        if let Arrivals::Open { rate_per_s, profile } = &client.arrivals {
            let peak = profile.as_ref().map_or(1.0, |p| p.max_factor());
            add_rate(model, client.call.target.0, rate_per_s * peak, &mut rates);
        }
    }
    rates
}

/// Add `rate` arrivals at endpoint `e` and at everything it calls (calls form no cycle).
fn add_rate(model: &Model, e: usize, rate: f64, rates: &mut [f64]) {
    rates[e] += rate;
    for step in &model.endpoints[e].steps {
        if let Step::Call(call) = step {
            add_rate(model, call.target.0, rate, rates);
        }
    }
}

/// Push a warning for every service, database and pool whose demand at peak reaches its capacity.
pub fn warn_about_overload(model: &Model, warnings: &mut Vec<Diagnostic>) {
    let rates = peak_endpoint_rates(model);
    let mut service_demand = vec![0.0; model.services.len()];
    let mut database_demand = vec![0.0; model.databases.len()];
    let mut pool_demand = vec![0.0; model.pools.len()];
    for (e, endpoint) in model.endpoints.iter().enumerate() {
        let service = &model.services[endpoint.service.0];
        for step in &endpoint.steps {
            match step {
                Step::Cpu(d) => service_demand[endpoint.service.0] += rates[e] * d.mean_secs(),
                Step::Delay(d) if service.async_max_in_flight.is_none() => {
                    service_demand[endpoint.service.0] += rates[e] * d.mean_secs()
                }
                Step::Transaction(tx) => {
                    let queries = f64::from(tx.queries);
                    database_demand[tx.database.0] += rates[e] * queries * tx.query.mean_secs();
                    if let ConnectionSource::Pool(p) = tx.connection {
                        let link = tx.link.latency.as_ref().map_or(0.0, |l| l.mean_secs());
                        pool_demand[p.0] += rates[e] * queries * (tx.query.mean_secs() + link);
                    }
                }
                _ => {}
            }
        }
    }
    let mut warn = |path: String, demand: f64, capacity: f64, unit: &str| {
        if capacity > 0.0 && demand >= capacity {
            warnings.push(Diagnostic {
                path,
                message: format!(
                    "offered load at peak is {:.0} % of capacity ({demand:.2} of {capacity} {unit} busy on average): queues will grow without bound",
                    100.0 * demand / capacity
                ),
            });
        }
    };
    for (s, service) in model.services.iter().enumerate() {
        let workers = f64::from(service.instances) * f64::from(service.workers);
        warn(format!("services.{}", service.name), service_demand[s], workers, "workers");
    }
    for (d, db) in model.databases.iter().enumerate() {
        warn(
            format!("databases.{}", db.name),
            database_demand[d],
            f64::from(db.cores),
            "cores",
        );
    }
    for (p, pool) in model.pools.iter().enumerate() {
        warn(
            format!("pools.{}", pool.name),
            pool_demand[p],
            f64::from(pool.size),
            "connections",
        );
    }
}
