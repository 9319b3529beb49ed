//! The topology diagram: the model's components (clients, queue producers, services, caches,
//! queues, connection pools, databases) and what flows between them, each edge with its expected
//! rate at peak from the capacity arithmetic ([`crate::model::capacity`]), drawn as SVG with the
//! components in breach highlighted.
//!
//! The drawing is layered left to right, as traffic flows: sources first, then the services in
//! the order they call each other, then pools, then databases. Each component sits in the layer
//! after the deepest component that sends to it (longest path); an edge that spans several layers
//! passes through a waypoint in each layer between. Within a layer, components are ordered by the
//! mean position of their neighbours (a few sweeps, keeping the order with the fewest crossings),
//! then moved as close to their neighbours' height as the order allows, so most edges run
//! straight. It reads the model only: the rates are arithmetic, no simulation is run.

use super::markup::escape;
use crate::model::capacity::{self, Level};
use crate::model::{Arrivals, ConnectionSource, Model, Step};
use std::fmt::Write as _;

/// What a component of the diagram is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A traffic source of the model.
    Client,
    /// Whoever publishes to a queue from outside the modelled services (a cron job).
    Producer,
    /// A service: its instances × workers.
    Service,
    /// The caches of a service's steps (a hit skips the call or transaction behind it).
    Cache,
    /// A message queue; its consumer delivers each message to a service.
    Queue,
    /// A connection pool in front of a database.
    Pool,
    /// A database.
    Database,
}

impl Kind {
    /// Every kind, in the order the legend shows them.
    const ALL: [Kind; 7] = [
        Kind::Client,
        Kind::Producer,
        Kind::Service,
        Kind::Cache,
        Kind::Queue,
        Kind::Pool,
        Kind::Database,
    ];

    /// The kind as the legend and the SVG's classes name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Service => "service",
            Kind::Cache => "cache",
            Kind::Queue => "queue",
            Kind::Pool => "pool",
            Kind::Database => "database",
        }
    }

    /// Fill colour of the shape.
    fn fill(self) -> &'static str {
        match self {
            Kind::Client | Kind::Producer => "#e8effa",
            Kind::Service => "#e6f2e8",
            Kind::Cache => "#fbf6dc",
            Kind::Queue => "#e3f2f4",
            Kind::Pool => "#f0ebf8",
            Kind::Database => "#fbefe0",
        }
    }
}

/// A component of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Its name in the model (a service's cache: "search cache").
    pub name: String,
    /// Its capacity in a few words: "3×8 workers", "8 cores", "pool 20", "400 users".
    pub capacity: String,
    /// A service's endpoints, "service.endpoint": an endpoint in breach puts its service in breach.
    pub endpoints: Vec<String>,
}

/// What flows along an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Requests: a client's, or calls from one service to another (attempts, retries left out).
    Requests,
    /// Database queries, through a pool or direct.
    Queries,
    /// Cache look-ups (hits and misses).
    Lookups,
    /// Messages published to a queue, or delivered by its consumer.
    Messages,
}

impl Flow {
    /// The unit of its rate.
    fn unit(self) -> &'static str {
        match self {
            Flow::Requests => "req/s",
            Flow::Queries => "q/s",
            Flow::Lookups => "get/s",
            Flow::Messages => "msg/s",
        }
    }

    /// The name the SVG's classes and arrowheads use.
    fn name(self) -> &'static str {
        match self {
            Flow::Requests => "requests",
            Flow::Queries => "queries",
            Flow::Lookups => "lookups",
            Flow::Messages => "messages",
        }
    }

    /// Stroke colour and dash pattern.
    fn stroke(self) -> (&'static str, &'static str) {
        match self {
            Flow::Requests => ("#4b5563", ""),
            Flow::Queries => ("#9a5b13", ""),
            Flow::Lookups => ("#8a7a10", " stroke-dasharray=\"2 3\""),
            Flow::Messages => ("#1f7a8c", " stroke-dasharray=\"6 3\""),
        }
    }
}

/// What flows from one component to another, at the model's peak.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// The sender (index in [`Topology::nodes`]).
    pub from: usize,
    /// The receiver.
    pub to: usize,
    /// What flows.
    pub flow: Flow,
    /// Expected rate per second at peak (every open client at its profile's highest factor,
    /// closed users at one request per think time plus the request's unloaded time).
    pub per_s: f64,
    /// How many flow over the whole run in the queues' scheduled bursts, on top of the rate
    /// (the messages of a burst, and the requests, queries and further messages they lead to).
    pub in_bursts: f64,
}

/// The model as a graph: its components and what flows between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Components: clients, producers, services, caches, queues, pools, databases, in that order.
    pub nodes: Vec<Node>,
    /// What flows between them, one edge per sender, receiver and flow.
    pub edges: Vec<Edge>,
}

impl Topology {
    /// The topology of `model`, with every edge's rate at peak by the capacity arithmetic.
    pub fn of(model: &Model) -> Topology {
        let rates = capacity::rates(model, Level::Peak);
        let hits = capacity::key_space_hits(model, Level::Peak);
        let mut t = Topology {
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let clients: Vec<usize> = model
            .clients
            .iter()
            .map(|c| {
                let capacity = match c.arrivals {
                    Arrivals::Open { .. } => "open".to_string(),
                    Arrivals::Closed { users, .. } => plural(users, "user"),
                };
                t.node(Kind::Client, &c.name, capacity)
            })
            .collect();
        let producers: Vec<Vec<usize>> = rates
            .producers
            .iter()
            .map(|ps| {
                ps.iter()
                    .map(|(name, _)| t.node(Kind::Producer, name, "producer".into()))
                    .collect()
            })
            .collect();
        let services: Vec<usize> = model
            .services
            .iter()
            .map(|s| {
                let capacity = match s.async_max_in_flight {
                    Some(most) => format!("{}× async ≤{most}", s.instances),
                    None if s.instances == 1 => plural(s.workers, "worker"),
                    None => format!("{}×{} workers", s.instances, s.workers),
                };
                let at = t.node(Kind::Service, &s.name, capacity);
                t.nodes[at].endpoints = s.endpoints.iter().map(|e| model.endpoints[e.0].name.clone()).collect();
                at
            })
            .collect();
        // A service's caches: look-ups and hits, to show the hit ratio they add up to (a key
        // space's steady state by arithmetic), and whether one has keys.
        let mut caches: Vec<Option<(usize, f64, f64, bool)>> = vec![None; model.services.len()];
        for (e, endpoint) in model.endpoints.iter().enumerate() {
            let s = endpoint.service.0;
            for (i, cache) in endpoint.caches.iter().enumerate() {
                let Some(cache) = cache else { continue };
                let share = endpoint.shares.get(i).copied().unwrap_or(1.0);
                let lookups = rates.endpoints[e] * share;
                let name = format!("{} cache", model.services[s].name);
                let entry = caches[s].get_or_insert_with(|| (t.node(Kind::Cache, &name, String::new()), 0.0, 0.0, false));
                entry.1 += lookups;
                entry.2 += lookups * cache.planned_hit_ratio(&hits);
                entry.3 |= matches!(cache.lookup, crate::model::Lookup::Keys(_));
                let node = entry.0;
                t.edge(services[s], node, Flow::Lookups, (lookups, rates.burst_requests[e] * share));
            }
        }
        for (node, lookups, hit, keyed) in caches.into_iter().flatten() {
            t.nodes[node].capacity = if lookups > 0.0 {
                format!("hit {:.0} %{}", 100.0 * hit / lookups, if keyed { " (keys)" } else { "" })
            } else {
                "cache".into()
            };
        }
        let queues: Vec<usize> = model
            .queues
            .iter()
            .map(|q| t.node(Kind::Queue, &q.name, format!("{} at once", q.concurrency)))
            .collect();
        let pools: Vec<usize> = model
            .pools
            .iter()
            .map(|p| t.node(Kind::Pool, &p.name, format!("pool {}", p.size)))
            .collect();
        let databases: Vec<usize> = model
            .databases
            .iter()
            .map(|d| t.node(Kind::Database, &d.name, plural(d.cores, "core")))
            .collect();
        for (p, pool) in model.pools.iter().enumerate() {
            t.edge(pools[p], databases[pool.database.0], Flow::Queries, (0.0, 0.0));
        }
        for (c, client) in model.clients.iter().enumerate() {
            let to = services[model.endpoints[client.call.target.0].service.0];
            t.edge(clients[c], to, Flow::Requests, (rates.clients[c], 0.0));
        }
        // Messages into each queue, per second and in bursts: its producers' and its publishers'.
        let mut published = vec![(0.0, 0.0); model.queues.len()];
        for (q, queue) in model.queues.iter().enumerate() {
            for (k, (name, rate)) in rates.producers[q].iter().enumerate() {
                let bursts: f64 = queue
                    .bursts
                    .iter()
                    .filter(|b| b.producer == *name)
                    .map(|b| f64::from(b.messages))
                    .sum();
                t.edge(producers[q][k], queues[q], Flow::Messages, (*rate, bursts));
                published[q].0 += rate;
                published[q].1 += bursts;
            }
        }
        for (e, endpoint) in model.endpoints.iter().enumerate() {
            let from = services[endpoint.service.0];
            for (i, step) in endpoint.steps.iter().enumerate() {
                // Requests past the step's cache, per second and in bursts, times `each`.
                let past_cache = |each: u32| {
                    let k = capacity::miss_ratio(endpoint, i, &hits) * f64::from(each);
                    (rates.endpoints[e] * k, rates.burst_requests[e] * k)
                };
                match step {
                    Step::Call(call) => {
                        let to = services[model.endpoints[call.target.0].service.0];
                        t.edge(from, to, Flow::Requests, past_cache(1));
                    }
                    Step::Transaction(tx) => {
                        let queries = past_cache(tx.queries);
                        let database = databases[tx.database.0];
                        match tx.connection {
                            ConnectionSource::Pool(p) => {
                                t.edge(from, pools[p.0], Flow::Queries, queries);
                                t.edge(pools[p.0], database, Flow::Queries, queries);
                            }
                            ConnectionSource::Direct => t.edge(from, database, Flow::Queries, queries),
                        }
                    }
                    Step::Publish(p) => {
                        let messages = past_cache(p.messages);
                        t.edge(from, queues[p.queue as usize], Flow::Messages, messages);
                        published[p.queue as usize].0 += messages.0;
                        published[p.queue as usize].1 += messages.1;
                    }
                    Step::Cpu(_) | Step::Delay(_) => {}
                }
            }
        }
        for (q, queue) in model.queues.iter().enumerate() {
            let consumer = services[model.endpoints[queue.call.target.0].service.0];
            t.edge(queues[q], consumer, Flow::Messages, published[q]);
        }
        t
    }

    /// The node of this kind and name, added when new.
    fn node(&mut self, kind: Kind, name: &str, capacity: String) -> usize {
        if let Some(at) = self.nodes.iter().position(|n| n.kind == kind && n.name == name) {
            return at;
        }
        self.nodes.push(Node {
            kind,
            name: name.to_string(),
            capacity,
            endpoints: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Add an amount (per second, in bursts) to the edge from `from` to `to` of this flow, made
    /// when new.
    fn edge(&mut self, from: usize, to: usize, flow: Flow, (per_s, in_bursts): (f64, f64)) {
        match self.edges.iter_mut().find(|e| e.from == from && e.to == to && e.flow == flow) {
            Some(edge) => {
                edge.per_s += per_s;
                edge.in_bursts += in_bursts;
            }
            None => self.edges.push(Edge {
                from,
                to,
                flow,
                per_s,
                in_bursts,
            }),
        }
    }

    /// Whether node `n` is in breach: its name, or one of its endpoints, is among `breached`.
    fn in_breach(&self, n: usize, breached: &[String]) -> bool {
        let node = &self.nodes[n];
        node.kind != Kind::Cache
            && breached
                .iter()
                .any(|b| *b == node.name || node.endpoints.iter().any(|e| e == b))
    }
}

/// "1 core", "8 cores".
fn plural(n: u32, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A rate per second (or a count) as a label: "100", "2.5", "0.03", "<0.01", "12.3k".
fn per_second(rate: f64) -> String {
    if rate >= 9_999.5 {
        format!("{:.1}k", rate / 1000.0)
    } else if rate >= 9.95 {
        format!("{rate:.0}")
    } else if rate >= 0.095 {
        format!("{rate:.1}")
    } else if rate >= 0.005 {
        format!("{rate:.2}")
    } else if rate > 0.0 {
        "<0.01".into()
    } else {
        "0".into()
    }
}

/// An edge's label: "100 req/s", "30 msg/s + bursts", "8000 q in bursts".
fn edge_label(edge: &Edge) -> String {
    let unit = edge.flow.unit();
    match (edge.per_s > 0.0, edge.in_bursts > 0.0) {
        (false, true) => format!("{} {} in bursts", per_second(edge.in_bursts), unit.trim_end_matches("/s")),
        (true, true) => format!("{} {unit} + bursts", per_second(edge.per_s)),
        _ => format!("{} {unit}", per_second(edge.per_s)),
    }
}

/// Font size of a node's name, of its capacity and of edge labels, pixels.
const NAME_PX: f64 = 11.0;
const SMALL_PX: f64 = 10.0;
/// Average advance of a character, in ems (DejaVu Sans and its stand-ins run wide; bold wider).
const EM_REGULAR: f64 = 0.62;
const EM_BOLD: f64 = 0.68;
/// A node's height, and its narrowest and widest width, pixels.
const NODE_H: f64 = 44.0;
const NODE_W_MIN: f64 = 96.0;
const NODE_W_MAX: f64 = 150.0;
/// Space inside a node on each side of its text.
const PAD: f64 = 8.0;
/// Space between two nodes of a layer; between a waypoint and anything else.
const NODE_GAP: f64 = 24.0;
const WAYPOINT_GAP: f64 = 10.0;
/// Room above a node that calls itself, for the loop and its label.
const LOOP_ROOM: f64 = 20.0;
/// Height of an edge label and its background.
const LABEL_H: f64 = 13.0;
/// Margin around the drawing.
const MARGIN: f64 = 16.0;
/// Sweeps of crossing reduction and of straightening.
const SWEEPS: usize = 8;

/// How wide `text` is drawn at `px`, roughly.
fn text_width(text: &str, px: f64, bold: bool) -> f64 {
    text.chars().count() as f64 * px * if bold { EM_BOLD } else { EM_REGULAR }
}

/// `text` shortened with an ellipsis to fit in `width` at `px`.
fn fit(text: &str, width: f64, px: f64, bold: bool) -> String {
    if text_width(text, px, bold) <= width {
        return text.to_string();
    }
    let per_char = px * if bold { EM_BOLD } else { EM_REGULAR };
    let keep = ((width / per_char).floor() as usize).saturating_sub(1);
    let mut short: String = text.chars().take(keep).collect();
    short.push('…');
    short
}

/// A rectangle: left, top, width, height.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// A placed edge label.
#[derive(Clone, Debug)]
struct Label {
    /// Its background.
    rect: Rect,
    text: String,
}

/// Where everything goes.
struct Layout {
    /// Width and height of the drawing (the legend below it apart).
    width: f64,
    height: f64,
    /// Each node's box, by node.
    boxes: Vec<Rect>,
    /// Each edge's route from sender to receiver (empty for an edge from a node to itself).
    routes: Vec<Vec<(f64, f64)>>,
    /// Each edge's label.
    labels: Vec<Label>,
}

/// The layered graph: the nodes, then a waypoint per edge per layer it passes, each with its
/// layer, and the segments between them pointing right.
struct Layered {
    layer: Vec<usize>,
    /// Per vertex, the vertices it links to in the next layer, and in the previous one.
    next: Vec<Vec<usize>>,
    prev: Vec<Vec<usize>>,
    /// Per edge, its vertices from left to right, and whether it points left (it closes a cycle).
    chains: Vec<(Vec<usize>, bool)>,
}

/// Layers by longest path, with the edges that close cycles turned round; pools and databases
/// pushed right, as far as their receivers allow (databases into the last layer).
fn layer(t: &Topology) -> Layered {
    let n = t.nodes.len();
    // Depth-first in node order: an edge to a node on the current path closes a cycle.
    let mut reversed = vec![false; t.edges.len()];
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the path, 2 done
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let (v, k) = *top;
            top.1 += 1;
            let out = t.edges.iter().enumerate().filter(|(_, e)| e.from == v && e.to != v).nth(k);
            match out {
                Some((i, e)) => match state[e.to] {
                    0 => {
                        state[e.to] = 1;
                        stack.push((e.to, 0));
                    }
                    1 => reversed[i] = true,
                    _ => {}
                },
                None => {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
    }
    let ends = |i: usize| {
        let e = &t.edges[i];
        if reversed[i] {
            (e.to, e.from)
        } else {
            (e.from, e.to)
        }
    };
    let arcs: Vec<(usize, usize)> = (0..t.edges.len())
        .filter(|&i| t.edges[i].from != t.edges[i].to)
        .map(ends)
        .collect();
    // Topological order (Kahn's, lowest index first), then longest paths along it.
    let mut indegree = vec![0usize; n];
    for &(_, to) in &arcs {
        indegree[to] += 1;
    }
    let mut order = Vec::with_capacity(n);
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    while let Some(v) = ready.pop_first() {
        order.push(v);
        for &(from, to) in &arcs {
            if from == v {
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.insert(to);
                }
            }
        }
    }
    let mut layer = vec![0usize; n];
    for &v in &order {
        for &(from, to) in &arcs {
            if from == v {
                layer[to] = layer[to].max(layer[v] + 1);
            }
        }
    }
    let last = layer.iter().copied().max().unwrap_or(0);
    for &v in order.iter().rev() {
        if matches!(t.nodes[v].kind, Kind::Pool | Kind::Database) {
            let receivers = arcs.iter().filter(|a| a.0 == v).map(|a| layer[a.1]).min();
            let right = receivers.map_or(last, |r| r.saturating_sub(1));
            layer[v] = layer[v].max(right);
        }
    }
    // Waypoints for the edges that span layers.
    let mut vertex_layer = layer;
    let mut chains = Vec::with_capacity(t.edges.len());
    for (i, turned) in reversed.iter().enumerate() {
        let (from, to) = ends(i);
        let mut chain = vec![from];
        if from != to {
            for l in vertex_layer[from] + 1..vertex_layer[to] {
                vertex_layer.push(l);
                chain.push(vertex_layer.len() - 1);
            }
            chain.push(to);
        }
        chains.push((chain, *turned));
    }
    let mut next = vec![Vec::new(); vertex_layer.len()];
    let mut prev = vec![Vec::new(); vertex_layer.len()];
    for (chain, _) in &chains {
        for pair in chain.windows(2) {
            next[pair[0]].push(pair[1]);
            prev[pair[1]].push(pair[0]);
        }
    }
    Layered {
        layer: vertex_layer,
        next,
        prev,
        chains,
    }
}

/// Crossings between the segments from layer `l` to the next, given each vertex's position in
/// its layer.
fn crossings(g: &Layered, rows: &[Vec<usize>], l: usize, pos: &[usize]) -> usize {
    let segments: Vec<(usize, usize)> = rows[l]
        .iter()
        .flat_map(|&v| g.next[v].iter().map(move |&w| (pos[v], pos[w])))
        .collect();
    let mut count = 0;
    for (i, a) in segments.iter().enumerate() {
        for b in &segments[i + 1..] {
            if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                count += 1;
            }
        }
    }
    count
}

/// Each vertex's position in its layer, from the rows.
fn positions(rows: &[Vec<usize>], vertices: usize) -> Vec<usize> {
    let mut pos = vec![0; vertices];
    for row in rows {
        for (i, &v) in row.iter().enumerate() {
            pos[v] = i;
        }
    }
    pos
}

/// The vertices of each layer in order: by the mean position of their neighbours, sweeping right
/// then left, keeping the order with the fewest crossings.
fn order(g: &Layered) -> Vec<Vec<usize>> {
    let count = g.layer.len();
    let depth = g.layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows = vec![Vec::new(); depth];
    for v in 0..count {
        rows[g.layer[v]].push(v);
    }
    let total = |rows: &[Vec<usize>]| {
        let pos = positions(rows, count);
        (0..depth.saturating_sub(1))
            .map(|l| crossings(g, rows, l, &pos))
            .sum::<usize>()
    };
    let mut best = (total(&rows), rows.clone());
    for sweep in 0..SWEEPS {
        let rightwards = sweep % 2 == 0;
        let layers: Vec<usize> = if rightwards {
            (1..depth).collect()
        } else {
            (0..depth.saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let pos = positions(&rows, count);
            let keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&v| {
                    let near = if rightwards { &g.prev[v] } else { &g.next[v] };
                    let at = if near.is_empty() {
                        pos[v] as f64
                    } else {
                        near.iter().map(|&w| pos[w] as f64).sum::<f64>() / near.len() as f64
                    };
                    (at, v)
                })
                .collect();
            let mut keyed = keyed;
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            rows[l] = keyed.into_iter().map(|(_, v)| v).collect();
        }
        let crossed = total(&rows);
        if crossed < best.0 {
            best = (crossed, rows.clone());
        }
    }
    best.1
}

/// Positions as close to `desired` as keeping their order and at least `gaps[i]` between the
/// `i`th and the next allows (least squares: pooling adjacent violators).
fn pack(desired: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offset = vec![0.0; desired.len()];
    for i in 1..desired.len() {
        offset[i] = offset[i - 1] + gaps[i - 1];
    }
    // Blocks of positions that move together: (sum of their targets, how many).
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for (d, o) in desired.iter().zip(&offset) {
        blocks.push((d - o, 1));
        while blocks.len() > 1 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 <= s2 / c2 as f64 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().expect("two blocks") = (s1 + s2, c1 + c2);
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (sum, n) in blocks {
        let mean = sum / n as f64;
        for _ in 0..n {
            out.push(mean + offset[out.len()]);
        }
    }
    out
}

/// Each vertex's connected part, numbered in the order of their first vertex.
fn parts(g: &Layered) -> Vec<usize> {
    let count = g.layer.len();
    let mut part = vec![usize::MAX; count];
    let mut parts = 0;
    for start in 0..count {
        if part[start] != usize::MAX {
            continue;
        }
        let mut stack = vec![start];
        part[start] = parts;
        while let Some(v) = stack.pop() {
            for &w in g.next[v].iter().chain(&g.prev[v]) {
                if part[w] == usize::MAX {
                    part[w] = parts;
                    stack.push(w);
                }
            }
        }
        parts += 1;
    }
    part
}

/// Heights of the vertices in `rows`, each layer's at least `gaps` apart: stacked, then moved
/// towards their neighbours' heights, sweeping right then left.
fn straighten(g: &Layered, rows: &[Vec<usize>], gaps: &[Vec<f64>], y: &mut [f64]) {
    for (row, gaps) in rows.iter().zip(gaps) {
        for (v, at) in row.iter().zip(pack(&vec![0.0; row.len()], gaps)) {
            y[*v] = at;
        }
    }
    for sweep in 0..2 * SWEEPS {
        let rightwards = sweep % 2 == 0;
        let layers: Vec<usize> = if rightwards {
            (1..rows.len()).collect()
        } else {
            (0..rows.len().saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let desired: Vec<f64> = rows[l]
                .iter()
                .map(|&v| {
                    let near = if rightwards { &g.prev[v] } else { &g.next[v] };
                    if near.is_empty() {
                        y[v]
                    } else {
                        near.iter().map(|&w| y[w]).sum::<f64>() / near.len() as f64
                    }
                })
                .collect();
            for (v, at) in rows[l].iter().zip(pack(&desired, &gaps[l])) {
                y[*v] = at;
            }
        }
    }
}

/// The layout of `t`: layers, order, heights, edge routes and labels.
fn layout(t: &Topology) -> Layout {
    let g = layer(t);
    let rows = order(&g);
    let n = t.nodes.len();
    let count = g.layer.len();
    let node_w = t
        .nodes
        .iter()
        .map(|node| text_width(&node.name, NAME_PX, true).max(text_width(&node.capacity, SMALL_PX, false)) + 2.0 * PAD)
        .fold(NODE_W_MIN, f64::max)
        .min(NODE_W_MAX);
    let labels: Vec<String> = t.edges.iter().map(edge_label).collect();
    let gap_w = labels
        .iter()
        .map(|l| text_width(l, SMALL_PX, false) + 12.0)
        .fold(56.0, f64::max);
    let x_of = |l: usize| MARGIN + l as f64 * (node_w + gap_w);
    let loops: Vec<bool> = (0..n).map(|v| t.edges.iter().any(|e| e.from == v && e.to == v)).collect();
    // Half heights, and the room each vertex wants above it.
    let half = |v: usize| if v < n { NODE_H / 2.0 } else { 0.0 };
    let above = |v: usize| if v < n && loops[v] { LOOP_ROOM } else { 0.0 };
    let gaps = |row: &[usize]| -> Vec<f64> {
        row.windows(2)
            .map(|p| {
                let between = if p[0] < n && p[1] < n { NODE_GAP } else { WAYPOINT_GAP };
                half(p[0]) + between + above(p[1]) + half(p[1])
            })
            .collect()
    };
    // Each connected part is straightened on its own, then put below the parts before it, as
    // high as their lowest vertex in each layer allows.
    let part = parts(&g);
    let mut y = vec![0.0; count];
    let mut floor = vec![f64::NEG_INFINITY; rows.len()];
    for p in 0..=part.iter().copied().max().unwrap_or(0) {
        let sub: Vec<Vec<usize>> = rows
            .iter()
            .map(|row| row.iter().copied().filter(|&v| part[v] == p).collect())
            .collect();
        straighten(&g, &sub, &sub.iter().map(|row| gaps(row)).collect::<Vec<_>>(), &mut y);
        let shift = sub
            .iter()
            .zip(&floor)
            .filter_map(|(row, floor)| row.first().map(|&v| floor + NODE_GAP - (y[v] - half(v) - above(v))))
            .fold(f64::NEG_INFINITY, f64::max);
        let shift = if shift.is_finite() { shift } else { 0.0 };
        for (row, floor) in sub.iter().zip(&mut floor) {
            for &v in row {
                y[v] += shift;
            }
            if let Some(&v) = row.last() {
                *floor = floor.max(y[v] + half(v));
            }
        }
    }
    let boxes: Vec<Rect> = (0..n)
        .map(|v| Rect {
            x: x_of(g.layer[v]),
            y: y[v] - NODE_H / 2.0,
            w: node_w,
            h: NODE_H,
        })
        .collect();
    // Ports: a node's segments leave its right side and reach its left side spread out, in the
    // order of the height of their other end.
    let mut out_port = vec![Vec::new(); n];
    let mut in_port = vec![Vec::new(); n];
    for (i, (chain, _)) in g.chains.iter().enumerate() {
        if chain.len() > 1 {
            out_port[chain[0]].push((y[chain[1]], i));
            in_port[chain[chain.len() - 1]].push((y[chain[chain.len() - 2]], i));
        }
    }
    let spread = |ports: &mut Vec<(f64, usize)>, v: usize| -> Vec<(usize, f64)> {
        ports.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let k = ports.len();
        let span = ((k as f64 - 1.0) * 8.0).min(NODE_H - 16.0);
        ports
            .iter()
            .enumerate()
            .map(|(j, &(_, i))| {
                let shift = if k > 1 {
                    span * (j as f64 / (k as f64 - 1.0) - 0.5)
                } else {
                    0.0
                };
                (i, y[v] + shift)
            })
            .collect()
    };
    let mut start_y = vec![0.0; t.edges.len()];
    let mut end_y = vec![0.0; t.edges.len()];
    for v in 0..n {
        for (i, at) in spread(&mut out_port[v], v) {
            start_y[i] = at;
        }
        for (i, at) in spread(&mut in_port[v], v) {
            end_y[i] = at;
        }
    }
    let mut routes = Vec::with_capacity(t.edges.len());
    let mut placed: Vec<(usize, f64, usize)> = Vec::new(); // (gap, height, edge)
    for (i, (chain, reversed)) in g.chains.iter().enumerate() {
        if chain.len() < 2 {
            routes.push(Vec::new());
            continue;
        }
        let mut points = vec![(x_of(g.layer[chain[0]]) + node_w, start_y[i])];
        for &w in &chain[1..chain.len() - 1] {
            points.push((x_of(g.layer[w]), y[w]));
            points.push((x_of(g.layer[w]) + node_w, y[w]));
        }
        let last = chain[chain.len() - 1];
        points.push((x_of(g.layer[last]), end_y[i]));
        // The label goes in the gap the sender's side of the edge crosses.
        let (a, b, gap) = if *reversed {
            (points[points.len() - 2], points[points.len() - 1], g.layer[last] - 1)
        } else {
            (points[0], points[1], g.layer[chain[0]])
        };
        debug_assert!((b.0 - a.0 - gap_w).abs() < 1e-9);
        // Just above the edge's middle, so the line stays in sight under it.
        placed.push((gap, (a.1 + b.1) / 2.0 - LABEL_H / 2.0 - 1.0, i));
        if *reversed {
            points.reverse();
        }
        routes.push(points);
    }
    // Labels in the same gap are spread so none covers another.
    let mut label_rects: Vec<Option<Rect>> = vec![None; t.edges.len()];
    placed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    for group in placed.chunk_by(|a, b| a.0 == b.0) {
        let desired: Vec<f64> = group.iter().map(|p| p.1).collect();
        let at = pack(&desired, &vec![LABEL_H + 2.0; group.len().saturating_sub(1)]);
        for (p, centre) in group.iter().zip(at) {
            let w = text_width(&labels[p.2], SMALL_PX, false) + 6.0;
            let x = x_of(p.0) + node_w + (gap_w - w) / 2.0;
            label_rects[p.2] = Some(Rect {
                x,
                y: centre - LABEL_H / 2.0,
                w,
                h: LABEL_H,
            });
        }
    }
    // A loop's label sits right of it, above its node.
    for (i, e) in t.edges.iter().enumerate() {
        if e.from == e.to {
            let b = boxes[e.from];
            let w = text_width(&labels[i], SMALL_PX, false) + 6.0;
            label_rects[i] = Some(Rect {
                x: b.x + b.w * 0.7,
                y: b.y - LOOP_ROOM + 2.0,
                w,
                h: LABEL_H,
            });
        }
    }
    let mut labels: Vec<Label> = label_rects
        .into_iter()
        .zip(labels)
        .map(|(rect, text)| Label {
            rect: rect.expect("every edge has a label"),
            text,
        })
        .collect();
    // Shift everything down so the top is at the margin.
    let top = boxes
        .iter()
        .map(|b| b.y - LOOP_ROOM)
        .chain(labels.iter().map(|l| l.rect.y))
        .chain((n..count).map(|v| y[v]))
        .fold(f64::INFINITY, f64::min);
    let dy = if top.is_finite() { MARGIN - top } else { MARGIN };
    let boxes: Vec<Rect> = boxes.into_iter().map(|b| Rect { y: b.y + dy, ..b }).collect();
    for l in &mut labels {
        l.rect.y += dy;
    }
    let routes: Vec<Vec<(f64, f64)>> = routes
        .into_iter()
        .map(|r| r.into_iter().map(|(x, y)| (x, y + dy)).collect())
        .collect();
    let bottom = boxes
        .iter()
        .map(|b| b.y + b.h)
        .chain(labels.iter().map(|l| l.rect.y + l.rect.h))
        .chain(routes.iter().flatten().map(|p| p.1))
        .fold(0.0, f64::max);
    let right = boxes
        .iter()
        .map(|b| b.x + b.w)
        .chain(labels.iter().map(|l| l.rect.x + l.rect.w))
        .fold(0.0, f64::max);
    Layout {
        width: right + MARGIN,
        height: bottom + MARGIN,
        boxes,
        routes,
        labels,
    }
}

/// An SVG path through `points`: curves with level ends between layers, straight through a
/// layer's waypoint.
fn path(points: &[(f64, f64)]) -> String {
    let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        if (y0 - y1).abs() < 0.05 {
            let _ = write!(d, " L{x1:.1},{y1:.1}");
        } else {
            let mid = (x0 + x1) / 2.0;
            let _ = write!(d, " C{mid:.1},{y0:.1} {mid:.1},{y1:.1} {x1:.1},{y1:.1}");
        }
    }
    d
}

/// The shape of a node of `kind` in `b`, filled with `fill`, outlined with the `stroke` attributes.
fn shape(kind: Kind, b: Rect, (fill, stroke): (&str, &str)) -> String {
    let (x, y, w, h) = (b.x, b.y, b.w, b.h);
    let paint = format!("fill=\"{fill}\" {stroke}");
    match kind {
        Kind::Service => format!("<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"8\" {paint}/>"),
        Kind::Client => format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{:.1}\" {paint}/>",
            h / 2.0
        ),
        Kind::Producer => format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{:.1}\" stroke-dasharray=\"4 2\" {paint}/>",
            h / 2.0
        ),
        Kind::Pool => format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" {paint}/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#8b7bb0\" stroke-width=\"0.8\"/>",
            x + 3.0,
            y + 3.0,
            w - 6.0,
            h - 6.0
        ),
        Kind::Cache => format!(
            "<polygon points=\"{:.1},{y:.1} {:.1},{y:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {x:.1},{:.1}\" {paint}/>",
            x + 10.0,
            x + w - 10.0,
            x + w,
            y + h / 2.0,
            x + w - 10.0,
            y + h,
            x + 10.0,
            y + h,
            y + h / 2.0
        ),
        Kind::Queue => {
            // A stack of messages: two cards behind the front one, all inside the box.
            let card = |dx: f64| {
                format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" {paint}/>",
                    x + dx,
                    y + 6.0 - dx,
                    w - 6.0,
                    h - 6.0
                )
            };
            format!("{}{}{}", card(6.0), card(3.0), card(0.0))
        }
        Kind::Database => {
            let ry = 6.0;
            format!(
                "<path d=\"M{x:.1},{:.1} A{:.1},{ry} 0 0 1 {:.1},{:.1} V{:.1} A{:.1},{ry} 0 0 1 {x:.1},{:.1} Z\" {paint}/>\
                 <path d=\"M{x:.1},{:.1} A{:.1},{ry} 0 0 0 {:.1},{:.1}\" fill=\"none\" {}/>",
                y + ry,
                w / 2.0,
                x + w,
                y + ry,
                y + h - ry,
                w / 2.0,
                y + h - ry,
                y + ry,
                w / 2.0,
                x + w,
                y + ry,
                stroke
            )
        }
    }
}

/// Fill and stroke attributes of a node: its kind's, or red when in breach.
fn paint(kind: Kind, breached: bool) -> (&'static str, &'static str) {
    if breached {
        ("#fde2e1", "stroke=\"#c62828\" stroke-width=\"2.5\"")
    } else {
        (kind.fill(), "stroke=\"#55606e\" stroke-width=\"1\"")
    }
}

/// Words wrapped into lines of at most `width` at `px`.
fn wrap(text: &str, width: f64, px: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), px, false) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The topology as a self-contained SVG (`id="topology"`, scaling to the width of its container):
/// the nodes named in `breached` drawn in red — a client, a service, a database or a pool by its
/// name, a service also by one of its endpoints ("service.endpoint").
pub fn svg(topology: &Topology, breached: &[String]) -> String {
    let lay = layout(topology);
    let legend_kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| topology.nodes.iter().any(|n| n.kind == *k))
        .collect();
    let width = lay.width.max(480.0);
    let note = "Rates per second at peak, by arithmetic on the model: req/s requests, q/s database queries, \
                get/s cache look-ups, msg/s messages.";
    let note_lines = wrap(note, width - 2.0 * MARGIN, SMALL_PX);
    // The legend's swatches, in rows that fit the width.
    let swatch = (60.0, 22.0);
    let mut items: Vec<(f64, f64, Option<Kind>)> = Vec::new(); // (x, row, kind; None: in breach)
    let (mut x, mut row) = (MARGIN, 0.0);
    for kind in legend_kinds.iter().copied().map(Some).chain([None]) {
        let text = kind.map_or("in breach", Kind::name);
        let item_w = swatch.0 + 6.0 + text_width(text, SMALL_PX, false) + 18.0;
        if x + item_w > width - MARGIN && x > MARGIN {
            x = MARGIN;
            row += 1.0;
        }
        items.push((x, row, kind));
        x += item_w;
    }
    let legend_top = lay.height + 4.0;
    let rows = items.last().map_or(1.0, |i| i.1 + 1.0);
    let note_top = legend_top + rows * (swatch.1 + 8.0) + 4.0;
    let height = note_top + note_lines.len() as f64 * 14.0 + MARGIN;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"topology\" viewBox=\"0 0 {width:.0} {height:.0}\" \
         width=\"{width:.0}\" height=\"{height:.0}\" style=\"max-width:100%;height:auto\" \
         font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" role=\"img\">"
    );
    s.push_str("<title>Topology of the model: components and the expected rates between them at peak</title>\n<defs>\n");
    for flow in [Flow::Requests, Flow::Queries, Flow::Lookups, Flow::Messages] {
        let _ = writeln!(
            s,
            "<marker id=\"topology-arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" \
             markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            flow.name(),
            flow.stroke().0
        );
    }
    s.push_str("</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    // Edges first, so nodes and labels are drawn over them; thicker for heavier flows.
    let heaviest = topology.edges.iter().map(|e| e.per_s).fold(0.0, f64::max);
    s.push_str("<g class=\"edges\" fill=\"none\">\n");
    for (i, e) in topology.edges.iter().enumerate() {
        let (colour, dash) = e.flow.stroke();
        let weight = if heaviest > 0.0 {
            1.0 + 1.5 * (e.per_s / heaviest).sqrt()
        } else {
            1.0
        };
        let d = if e.from == e.to {
            let b = lay.boxes[e.from];
            let (a, c) = (b.x + b.w * 0.62, b.x + b.w * 0.38);
            format!(
                "M{a:.1},{:.1} C{a:.1},{:.1} {c:.1},{:.1} {c:.1},{:.1}",
                b.y,
                b.y - 16.0,
                b.y - 16.0,
                b.y
            )
        } else {
            path(&lay.routes[i])
        };
        let _ = writeln!(
            s,
            "<path class=\"edge {}\" d=\"{d}\" stroke=\"{colour}\" stroke-width=\"{weight:.2}\"{dash} \
             marker-end=\"url(#topology-arrow-{})\"><title>{} → {}: {}</title></path>",
            e.flow.name(),
            e.flow.name(),
            escape(&topology.nodes[e.from].name),
            escape(&topology.nodes[e.to].name),
            escape(&lay.labels[i].text)
        );
    }
    s.push_str("</g>\n<g class=\"labels\" font-size=\"10\">\n");
    for (e, label) in topology.edges.iter().zip(&lay.labels) {
        let r = label.rect;
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + r.w / 2.0,
            r.y + r.h - 3.0,
            e.flow.stroke().0,
            escape(&label.text)
        );
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for (v, node) in topology.nodes.iter().enumerate() {
        let b = lay.boxes[v];
        let hot = topology.in_breach(v, breached);
        let text_w = b.w - 2.0 * PAD - if node.kind == Kind::Queue { 6.0 } else { 0.0 };
        let cx = b.x
            + if node.kind == Kind::Queue {
                (b.w - 6.0) / 2.0
            } else {
                b.w / 2.0
            };
        let cy = b.y + b.h / 2.0 + if node.kind == Kind::Queue { 3.0 } else { 0.0 };
        let mut tip = format!("{} {}: {}", node.kind.name(), node.name, node.capacity);
        if !node.endpoints.is_empty() {
            let _ = write!(tip, " (endpoints {})", node.endpoints.join(", "));
        }
        if hot {
            tip.push_str(" — in breach");
        }
        let _ = writeln!(
            s,
            "<g class=\"node {}{}\"><title>{}</title>{}\
             <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"bold\" fill=\"{}\">{}</text>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4b5563\">{}</text></g>",
            node.kind.name(),
            if hot { " breached" } else { "" },
            escape(&tip),
            shape(node.kind, b, paint(node.kind, hot)),
            cy - 2.0,
            if hot { "#8e1b1b" } else { "#1f2933" },
            escape(&fit(&node.name, text_w, NAME_PX, true)),
            cy + 12.0,
            escape(&fit(&node.capacity, text_w, SMALL_PX, false))
        );
    }
    s.push_str("</g>\n<g class=\"legend\" font-size=\"10\" fill=\"#1f2933\">\n");
    for (x, row, kind) in items {
        let b = Rect {
            x,
            y: legend_top + row * (swatch.1 + 8.0),
            w: swatch.0,
            h: swatch.1,
        };
        let (drawn, text) = match kind {
            Some(k) => (shape(k, b, paint(k, false)), k.name()),
            None => (shape(Kind::Service, b, paint(Kind::Service, true)), "in breach"),
        };
        let _ = writeln!(
            s,
            "{drawn}<text x=\"{:.1}\" y=\"{:.1}\">{text}</text>",
            b.x + b.w + 6.0,
            b.y + b.h / 2.0 + 3.5
        );
    }
    for (k, line) in note_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN:.1}\" y=\"{:.1}\">{}</text>",
            note_top + 10.0 + 14.0 * k as f64,
            escape(line)
        );
    }
    s.push_str("</g>\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the two rectangles share any area.
    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    }

    /// Every example model in models/, by file name.
    fn examples() -> Vec<(String, Model)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("models/")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("a readable model");
                let name = p.file_name().expect("a file name").to_string_lossy().into_owned();
                let model = crate::model::parse_model(&text, &name).expect("a valid example").model;
                (name, model)
            })
            .collect()
    }

    #[test]
    fn no_two_nodes_and_no_label_and_node_overlap_in_any_example() {
        for (name, model) in examples() {
            let t = Topology::of(&model);
            let lay = layout(&t);
            for (i, a) in lay.boxes.iter().enumerate() {
                for (j, b) in lay.boxes.iter().enumerate().skip(i + 1) {
                    assert!(!overlap(a, b), "{name}: {} and {} overlap", t.nodes[i].name, t.nodes[j].name);
                }
                for (k, l) in lay.labels.iter().enumerate() {
                    assert!(!overlap(a, &l.rect), "{name}: label {} covers {}", l.text, t.nodes[i].name);
                    for m in &lay.labels[k + 1..] {
                        assert!(!overlap(&l.rect, &m.rect), "{name}: labels {} and {} overlap", l.text, m.text);
                    }
                }
            }
            assert!(lay
                .boxes
                .iter()
                .all(|b| b.x >= 0.0 && b.y >= 0.0 && b.x + b.w <= lay.width && b.y + b.h <= lay.height));
        }
    }

    #[test]
    fn every_edge_of_every_example_points_right_but_those_closing_a_cycle() {
        for (name, model) in examples() {
            let t = Topology::of(&model);
            let lay = layout(&t);
            for e in &t.edges {
                assert!(
                    e.from == e.to || lay.boxes[e.from].x < lay.boxes[e.to].x,
                    "{name}: {} → {}",
                    t.nodes[e.from].name,
                    t.nodes[e.to].name
                );
            }
        }
    }

    #[test]
    fn food_delivery_fits_a_page_and_its_databases_are_in_the_last_layer() {
        let (_, model) = examples()
            .into_iter()
            .find(|(n, _)| n == "food-delivery.json")
            .expect("the example");
        let t = Topology::of(&model);
        let lay = layout(&t);
        assert!(lay.width <= 1200.0, "{} px wide", lay.width);
        let last = lay.boxes.iter().map(|b| b.x).fold(0.0, f64::max);
        for (v, node) in t.nodes.iter().enumerate() {
            if node.kind == Kind::Database {
                assert_eq!(lay.boxes[v].x, last, "{}", node.name);
            }
        }
    }

    #[test]
    fn a_name_too_long_for_its_box_is_shortened_with_an_ellipsis() {
        let short = fit("a_very_long_service_name_indeed", 80.0, NAME_PX, true);
        assert!(short.ends_with('…'));
        assert!(text_width(&short, NAME_PX, true) <= 80.0, "{short}");
        assert_eq!(fit("api", 80.0, NAME_PX, true), "api");
    }

    #[test]
    fn packing_keeps_order_and_gaps_and_moves_as_little_as_it_can() {
        assert_eq!(pack(&[0.0, 0.0], &[10.0]), vec![-5.0, 5.0]);
        assert_eq!(pack(&[0.0, 50.0], &[10.0]), vec![0.0, 50.0]);
        assert_eq!(pack(&[30.0, 0.0, 100.0], &[10.0, 10.0]), vec![10.0, 20.0, 100.0]);
    }

    /// The model of `json`, validated.
    fn model(json: &str) -> Model {
        crate::model::parse_model(json, "model.json").expect("a valid model").model
    }

    #[test]
    fn a_client_is_left_of_its_service_left_of_its_pool_left_of_its_database() {
        let t = Topology::of(&model(
            r#"{ "duration": "1m",
              "clients": { "web": { "open": { "rate": "100/s" }, "calls": "api.get" } },
              "services": { "api": { "endpoints": { "get": [
                  { "transaction": { "pool": "pgb", "queries": 2, "query": "exp(1ms)" } } ] } } },
              "databases": { "pg": {} }, "pools": { "pgb": { "database": "pg", "size": 4 } } }"#,
        ));
        let lay = layout(&t);
        let x = |name: &str| lay.boxes[t.nodes.iter().position(|n| n.name == name).expect(name)].x;
        assert!(x("web") < x("api") && x("api") < x("pgb") && x("pgb") < x("pg"));
    }

    #[test]
    fn services_that_call_each_other_both_ways_are_laid_out_with_one_edge_turned_round() {
        // a.x calls b.y, b.z calls a.w: no cycle of endpoints, a cycle of services.
        let t = Topology::of(&model(
            r#"{ "duration": "1m",
              "clients": { "web": { "open": { "rate": "10/s" }, "calls": "a.x" },
                           "app": { "open": { "rate": "5/s" }, "calls": "b.z" } },
              "services": {
                "a": { "endpoints": { "x": [ { "call": "b.y" } ], "w": [ { "cpu": "exp(1ms)" } ] } },
                "b": { "endpoints": { "y": [ { "cpu": "exp(1ms)" } ], "z": [ { "call": "a.w" } ] } } } }"#,
        ));
        let g = layer(&t);
        assert_eq!(g.chains.iter().filter(|(_, reversed)| *reversed).count(), 1);
        let lay = layout(&t);
        for (i, route) in lay.routes.iter().enumerate() {
            let (from, to) = (lay.boxes[t.edges[i].from], lay.boxes[t.edges[i].to]);
            // Each route starts at its sender's side and ends at its receiver's.
            assert!(route[0].0 == from.x + from.w || route[0].0 == from.x, "{route:?}");
            let end = route[route.len() - 1].0;
            assert!(end == to.x || end == to.x + to.w, "{route:?}");
        }
    }

    #[test]
    fn rates_are_labelled_in_few_characters() {
        assert_eq!(per_second(100.0), "100");
        assert_eq!(per_second(2.46), "2.5");
        assert_eq!(per_second(12_345.0), "12.3k");
        assert_eq!(per_second(0.0003), "<0.01");
        assert_eq!(per_second(0.0), "0");
    }
}
