//! One trace as a tree, and what each request served in it did: its calls, queries, cache lookups
//! and messages in the order they started, and its own (self) time. Clock skew between services is
//! corrected as Jaeger's UI does: a server span that does not fit inside the client span that
//! called it is moved, with everything under it, to the middle of that client span.

use super::span::{Role, Span, Sym};
use std::collections::HashMap;

/// What a request did, one operation at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// A call answered by a traced endpoint.
    Call {
        /// The callee's service.
        service: Sym,
        /// The callee's endpoint.
        endpoint: Sym,
    },
    /// A call to something not traced (a third-party API): only its duration is known.
    External {
        /// Who was called.
        peer: Sym,
    },
    /// Queries to one database, one after another (a transaction).
    Query {
        /// The database.
        database: Sym,
    },
    /// A cache lookup.
    Lookup {
        /// The store.
        store: Sym,
    },
    /// A message sent.
    Publish {
        /// The queue or topic.
        destination: Sym,
    },
}

/// One operation of a request.
#[derive(Clone, Debug)]
pub struct Op {
    /// What it was.
    pub kind: OpKind,
    /// When it started (skew corrected), in nanoseconds since the epoch.
    pub start_ns: i64,
    /// When it ended.
    pub end_ns: i64,
    /// A call's network round trip: the client span's duration less the server span's.
    pub network_ns: Option<u64>,
    /// Each query's duration (queries), else the one span's duration.
    pub parts_ns: Vec<u64>,
    /// A message's consumer, when it is traced: (service, endpoint) of the consumer span under
    /// the producer span.
    pub consumer: Option<(Sym, Sym)>,
}

/// One request served, as its trace shows it.
#[derive(Clone, Debug)]
pub struct Execution {
    /// The service.
    pub service: Sym,
    /// The endpoint.
    pub endpoint: Sym,
    /// Its duration.
    pub duration_ns: u64,
    /// Its own time: its duration less the time covered by its operations.
    pub self_ns: u64,
    /// Its operations in the order they started.
    pub ops: Vec<Op>,
    /// Two of its operations overlapped in time (run in parallel).
    pub parallel: bool,
    /// Its parent is not in the trace (a caller that is not traced, a partial trace): it arrived
    /// from outside what the traces show.
    pub orphan: bool,
}

/// What assembling traces found, besides the executions.
#[derive(Clone, Copy, Debug, Default)]
pub struct TreeNotes {
    /// Server spans moved inside their caller's client span.
    pub skew_corrected: u64,
    /// Spans whose parent is not in the trace.
    pub orphans: u64,
}

/// The executions of one trace (its spans in any order), each served span's.
pub fn executions(spans: &[Span], notes: &mut TreeNotes) -> Vec<Execution> {
    let index: HashMap<u64, usize> = spans.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match index.get(&s.parent) {
            Some(&p) if s.parent != 0 && p != i => children[p].push(i),
            _ => {
                if s.parent != 0 {
                    notes.orphans += 1;
                }
                roots.push(i);
            }
        }
    }
    for c in &mut children {
        c.sort_by_key(|&i| (spans[i].start_ns, spans[i].id));
    }
    // Skew: an offset per span, inherited by everything under it.
    let mut offset = vec![0i64; spans.len()];
    let mut stack: Vec<usize> = roots.clone();
    let mut visited = vec![false; spans.len()];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        let parent = &spans[i];
        let (ps, pe) = (parent.start_ns + offset[i], parent.end_ns + offset[i]);
        for &c in &children[i] {
            let child = &spans[c];
            let mut own = offset[i];
            let crosses = matches!(parent.role, Role::Call { .. }) && matches!(child.role, Role::Served { .. });
            let (cs, ce) = (child.start_ns + own, child.end_ns + own);
            if crosses && (cs < ps || ce > pe) {
                let slack = (pe - ps) - (ce - cs);
                own += ps + slack.max(0) / 2 - cs;
                notes.skew_corrected += 1;
            }
            offset[c] = own;
            stack.push(c);
        }
    }
    let at = |i: usize| (spans[i].start_ns + offset[i], spans[i].end_ns + offset[i]);
    let mut out = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let Role::Served { endpoint } = s.role else { continue };
        let mut ops: Vec<Op> = Vec::new();
        // The request's own spans: its children, through internal spans.
        let mut pending: Vec<usize> = children[i].iter().rev().copied().collect();
        while let Some(c) = pending.pop() {
            let child = &spans[c];
            let (start_ns, end_ns) = at(c);
            let kind = match child.role {
                Role::Internal => {
                    pending.extend(children[c].iter().rev().copied());
                    continue;
                }
                Role::Served { endpoint } => OpKind::Call {
                    service: child.service,
                    endpoint,
                },
                Role::Call { peer } => match children[c].iter().find(|&&g| matches!(spans[g].role, Role::Served { .. })) {
                    Some(&g) => {
                        let Role::Served { endpoint } = spans[g].role else {
                            unreachable!()
                        };
                        ops.push(Op {
                            kind: OpKind::Call {
                                service: spans[g].service,
                                endpoint,
                            },
                            start_ns,
                            end_ns,
                            network_ns: Some(child.duration_ns().saturating_sub(spans[g].duration_ns())),
                            parts_ns: vec![child.duration_ns()],
                            consumer: None,
                        });
                        continue;
                    }
                    None => OpKind::External { peer },
                },
                Role::Query { database } => OpKind::Query { database },
                Role::Lookup { store } => OpKind::Lookup { store },
                Role::Publish { destination } => OpKind::Publish { destination },
            };
            // Queries to one database one after another are one transaction.
            if let (OpKind::Query { .. }, Some(last)) = (kind, ops.last_mut()) {
                if last.kind == kind {
                    last.end_ns = last.end_ns.max(end_ns);
                    last.parts_ns.push(child.duration_ns());
                    continue;
                }
            }
            let consumer = match kind {
                OpKind::Publish { .. } => children[c].iter().find_map(|&g| match spans[g].role {
                    Role::Served { endpoint } => Some((spans[g].service, endpoint)),
                    _ => None,
                }),
                _ => None,
            };
            ops.push(Op {
                kind,
                start_ns,
                end_ns,
                network_ns: None,
                parts_ns: vec![child.duration_ns()],
                consumer,
            });
        }
        ops.sort_by_key(|o| o.start_ns);
        let (start, end) = at(i);
        // Own time: the span less the union of its operations (clipped to it).
        let mut covered = 0i64;
        let mut reach = start;
        let mut parallel = false;
        for op in &ops {
            let (a, b) = (op.start_ns.max(reach).max(start), op.end_ns.min(end));
            if op.start_ns < reach && reach > start {
                parallel = true;
            }
            if b > a {
                covered += b - a;
            }
            reach = reach.max(op.end_ns);
        }
        out.push(Execution {
            orphan: s.parent != 0 && !index.contains_key(&s.parent),
            service: s.service,
            endpoint,
            duration_ns: s.duration_ns(),
            self_ns: ((end - start) - covered).max(0) as u64,
            ops,
            parallel,
        });
    }
    out
}
