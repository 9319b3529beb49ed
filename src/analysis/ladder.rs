//! The latency ladder: a sweep of added link latency read against the spreadsheet everyone
//! makes first — duration at +0 plus round trips × added latency — and the first step where
//! the simulation leaves that straight line, and where a pool saturates.

use crate::model::{Model, Step};

/// The links a sweep path adds latency to: `links.api -> pg.latency.add` gives ("api", "pg").
pub fn swept_links(paths: &[String]) -> Vec<(String, String)> {
    paths
        .iter()
        .flat_map(|p| p.split(','))
        .filter_map(|p| {
            let link = p.trim().strip_prefix("links.")?.strip_suffix(".latency.add")?;
            let (a, b) = link.split_once("->")?;
            Some((a.trim().to_string(), b.trim().to_string()))
        })
        .collect()
}

/// Whether link `name` ("a -> b", either order) is one of `links`.
fn is_swept(name: &str, links: &[(String, String)]) -> bool {
    let Some((a, b)) = name.split_once("->").map(|(a, b)| (a.trim(), b.trim())) else {
        return false;
    };
    links.iter().any(|(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// Round trips over the swept links in one request of each endpoint, calls to other endpoints
/// included (retries not counted): the spreadsheet's "queries". Endpoints with none are left out.
pub fn round_trips(model: &Model, links: &[(String, String)]) -> Vec<(String, u64)> {
    fn trips(model: &Model, e: usize, links: &[(String, String)]) -> u64 {
        model.endpoints[e]
            .steps
            .iter()
            .map(|step| match step {
                Step::Transaction(tx) if is_swept(&model.links[tx.link.id.0], links) => u64::from(tx.queries),
                Step::Call(call) => u64::from(is_swept(&model.links[call.link.id.0], links)) + trips(model, call.target.0, links),
                _ => 0,
            })
            .sum()
    }
    (0..model.endpoints.len())
        .map(|e| (model.endpoints[e].name.clone(), trips(model, e, links)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The spreadsheet's prediction: duration at +0 (ms) plus round trips × added latency (s → ms).
pub fn spreadsheet_ms(base_ms: f64, trips: u64, added_s: f64) -> f64 {
    base_ms + trips as f64 * added_s * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spreadsheet_adds_queries_times_latency() {
        // Case study 3: 24 queries, 150 ms → 270 ms at +5 ms and 390 ms at +10 ms.
        assert!((spreadsheet_ms(150.0, 24, 0.005) - 270.0).abs() < 1e-9);
        assert!((spreadsheet_ms(150.0, 24, 0.010) - 390.0).abs() < 1e-9);
    }

    #[test]
    fn swept_links_come_from_latency_add_paths() {
        let links = swept_links(&["links.api -> pg.latency.add, links.workers -> pg.latency.add".to_string()]);
        assert_eq!(links, vec![("api".into(), "pg".into()), ("workers".into(), "pg".into())]);
        assert!(is_swept("pg -> api", &links));
        assert!(!is_swept("api -> menu", &links));
        assert!(swept_links(&["pools.p.size".to_string()]).is_empty());
    }
}
