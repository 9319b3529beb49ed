//! The topology diagram (`capsim::report::topology`): the model's components and the expected
//! rates between them, worked by hand on a small model; the SVG of every example is well-formed,
//! the same every time, and draws the components in breach in red.

use super::examples;
use capsim::report::topology::{svg, Edge, Flow, Kind, Topology};

/// 100 requests per second to api.get, which runs a transaction of 2 queries through pool pgb to
/// database pg, and publishes 1 message to queue mail, consumed by mailer.send. By hand: web →
/// api 100 req/s; api → pgb and pgb → pg 100 × 2 = 200 q/s; api → mail and mail → mailer
/// 100 × 1 = 100 msg/s.
const SMALL: &str = r#"{
  "name": "small", "duration": "1m",
  "clients": { "web": { "open": { "rate": "100/s" }, "calls": "api.get" } },
  "services": {
    "api": { "instances": 3, "workers": 8, "endpoints": { "get": [
        { "cpu": "exp(1ms)" },
        { "transaction": { "pool": "pgb", "queries": 2, "query": "exp(1ms)" } },
        { "publish": "mail" } ] } },
    "mailer": { "workers": 2, "endpoints": { "send": [ { "cpu": "exp(5ms)" } ] } }
  },
  "queues": { "mail": { "visibility_timeout": "30s", "consumer": { "calls": "mailer.send", "concurrency": 4 } } },
  "databases": { "pg": { "cores": 8 } },
  "pools": { "pgb": { "database": "pg", "size": 20 } }
}"#;

fn topology_of(json: &str) -> Topology {
    Topology::of(&capsim::model::parse_model(json, "model.json").expect("a valid model").model)
}

/// The SVG's document, after checking it is well-formed XML with an `svg` root of id "topology".
fn parsed(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("id"), Some("topology"));
    assert!(root.attribute("viewBox").is_some(), "it scales to the page");
    doc
}

/// The names of the nodes drawn with the class "breached".
fn breached_nodes(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|w| w == "breached")))
        .map(|n| {
            let title = n
                .children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .unwrap_or_default();
            title.split(':').next().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn a_client_a_pool_and_a_queue_give_the_nodes_and_rates_worked_by_hand() {
    let t = topology_of(SMALL);
    let nodes: Vec<(Kind, &str, &str)> = t
        .nodes
        .iter()
        .map(|n| (n.kind, n.name.as_str(), n.capacity.as_str()))
        .collect();
    assert_eq!(
        nodes,
        vec![
            (Kind::Client, "web", "open"),
            (Kind::Service, "api", "3×8 workers"),
            (Kind::Service, "mailer", "2 workers"),
            (Kind::Queue, "mail", "4 at once"),
            (Kind::Pool, "pgb", "pool 20"),
            (Kind::Database, "pg", "8 cores"),
        ]
    );
    let at = |name: &str| t.nodes.iter().position(|n| n.name == name).expect(name);
    let edge = |from: &str, to: &str, flow: Flow, per_s: f64| Edge {
        from: at(from),
        to: at(to),
        flow,
        per_s,
        in_bursts: 0.0,
    };
    let mut edges = t.edges.clone();
    edges.sort_by_key(|e| (e.from, e.to));
    assert_eq!(
        edges,
        vec![
            edge("web", "api", Flow::Requests, 100.0),
            edge("api", "mail", Flow::Messages, 100.0),
            edge("api", "pgb", Flow::Queries, 200.0),
            edge("mail", "mailer", Flow::Messages, 100.0),
            edge("pgb", "pg", Flow::Queries, 200.0),
        ]
    );
    let svg = svg(&t, &[]);
    let doc = parsed(&svg);
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    for label in ["100 req/s", "200 q/s", "100 msg/s", "3×8 workers", "pool 20", "8 cores"] {
        assert!(texts.contains(&label), "{label} is drawn: {texts:?}");
    }
}

#[test]
fn an_endpoint_in_breach_puts_its_service_in_red_and_nothing_else() {
    let t = topology_of(SMALL);
    let doc_of = |breached: &[&str]| svg(&t, &breached.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let none = doc_of(&[]);
    assert!(breached_nodes(&parsed(&none)).is_empty());
    let some = doc_of(&["api.get", "pg", "nobody"]);
    assert_eq!(breached_nodes(&parsed(&some)), vec!["service api", "database pg"]);
    assert!(
        some.contains("#c62828") && some.contains("in breach"),
        "red, and said in the legend"
    );
}

#[test]
fn every_example_gives_a_well_formed_svg_the_same_every_time() {
    for path in examples() {
        let json = std::fs::read_to_string(&path).unwrap();
        let t = topology_of(&json);
        let breached: Vec<String> = t.nodes.iter().take(1).map(|n| n.name.clone()).collect();
        let first = svg(&t, &breached);
        parsed(&first);
        assert_eq!(first, svg(&topology_of(&json), &breached), "{}", path.display());
        assert_eq!(first.matches("://").count(), 1, "no URL but the SVG namespace");
        // Every component is drawn, its name shortened at most.
        let doc = parsed(&first);
        let drawn = doc
            .descendants()
            .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("node ")))
            .count();
        assert_eq!(drawn, t.nodes.len(), "{}", path.display());
    }
}

#[test]
fn a_burst_fed_queue_labels_what_flows_in_its_bursts() {
    // retry-stampede: a cron job publishes 500 documents twice; each runs 8 queries on search.
    let json = std::fs::read_to_string(super::example("retry-stampede.json")).unwrap();
    let t = topology_of(&json);
    let search = t.nodes.iter().position(|n| n.name == "search").unwrap();
    let pipeline = t.nodes.iter().position(|n| n.name == "pipeline").unwrap();
    let queries = t
        .edges
        .iter()
        .find(|e| e.from == pipeline && e.to == search)
        .expect("pipeline queries search");
    assert_eq!((queries.per_s, queries.in_bursts), (0.0, 8000.0));
    let svg = svg(&t, &[]);
    assert!(svg.contains("8000 q in bursts"), "{svg}");
}
