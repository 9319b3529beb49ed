//! One span as capsim reads it, whatever format it came in: who ran it (service, instance), what
//! it was (a request served, a call made, a query, a cache lookup, a message published), when, and
//! whether it failed. Names are interned: a trace file repeats a handful of names millions of times.

use indexmap::IndexSet;

/// An interned name: an index into [`Names`].
pub type Sym = u32;

/// The interned names of a trace file (services, instances, endpoints, databases, peers).
#[derive(Debug, Default)]
pub struct Names {
    set: IndexSet<String>,
}

impl Names {
    /// The symbol of `name`, interning it the first time.
    pub fn sym(&mut self, name: &str) -> Sym {
        if let Some(i) = self.set.get_index_of(name) {
            return i as Sym;
        }
        self.set.insert_full(name.to_string()).0 as Sym
    }

    /// The name of a symbol.
    pub fn name(&self, sym: Sym) -> &str {
        self.set.get_index(sym as usize).map_or("", String::as_str)
    }
}

/// What a span was, for building a model from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A request served by an endpoint of its service (a server or consumer span).
    Served {
        /// The endpoint's name as capsim writes it ("get_items_id").
        endpoint: Sym,
    },
    /// A synchronous call to another service (a client span); the callee's server span is its child
    /// when the callee is traced.
    Call {
        /// Who was called (`server.address`, `peer.service`, or the span's name).
        peer: Sym,
    },
    /// A query to a database (a client span with `db.system` of a relational or document store).
    Query {
        /// The database, as capsim names it (`db.namespace` or `server.address`, else `db.system`).
        database: Sym,
    },
    /// A lookup in a key-value store used as a cache (`db.system` redis, memcached, …).
    Lookup {
        /// The store.
        store: Sym,
    },
    /// A message sent to a queue or topic (a producer span).
    Publish {
        /// The queue or topic.
        destination: Sym,
    },
    /// Work inside the service that is none of the above (an internal span): its time is the
    /// service's own, its children belong to the enclosing request.
    Internal,
}

/// One span.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// The trace it belongs to.
    pub trace: u128,
    /// Its own id.
    pub id: u64,
    /// Its parent's id, 0 for a root.
    pub parent: u64,
    /// The service that recorded it (`service.name`).
    pub service: Sym,
    /// The instance that recorded it (`service.instance.id`, a Zipkin endpoint's address, a
    /// Jaeger process's `hostname`), or the service's own symbol when none is known.
    pub instance: Sym,
    /// What it was.
    pub role: Role,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End, in nanoseconds since the Unix epoch (not before the start).
    pub end_ns: i64,
    /// It failed (an error status, an HTTP status of 500 or more, an `error` tag).
    pub error: bool,
}

impl Span {
    /// How long it lasted, in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        (self.end_ns - self.start_ns).max(0) as u64
    }
}

/// The span's fields every format has, as read from the file, before interning and classifying.
#[derive(Debug, Default)]
pub struct RawSpan {
    /// Trace id (hex in every format capsim reads).
    pub trace: u128,
    /// Span id.
    pub id: u64,
    /// Parent span id, 0 for a root.
    pub parent: u64,
    /// The span's name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End, in nanoseconds since the Unix epoch.
    pub end_ns: i64,
    /// The service (`service.name`).
    pub service: String,
    /// The attributes capsim reads (resource and span attributes, Zipkin and Jaeger tags).
    pub attributes: Attributes,
    /// An error status (OTLP status code 2, Jaeger `error=true`, Zipkin's `error` tag).
    pub error: bool,
}

/// A span's kind, as OpenTelemetry defines it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Not said.
    #[default]
    Unspecified,
    /// Work inside a service.
    Internal,
    /// A request served.
    Server,
    /// A request made.
    Client,
    /// A message sent.
    Producer,
    /// A message received.
    Consumer,
}

impl Kind {
    /// The kind from OTLP's number (0 to 5) or name ("SPAN_KIND_SERVER"), Zipkin's ("SERVER")
    /// or Jaeger's `span.kind` tag ("server"); None when it is none of them.
    pub fn parse(text: &str) -> Option<Kind> {
        let upper = text.trim().to_ascii_uppercase();
        Some(match upper.strip_prefix("SPAN_KIND_").unwrap_or(&upper) {
            "0" | "UNSPECIFIED" | "" => Kind::Unspecified,
            "1" | "INTERNAL" => Kind::Internal,
            "2" | "SERVER" => Kind::Server,
            "3" | "CLIENT" => Kind::Client,
            "4" | "PRODUCER" => Kind::Producer,
            "5" | "CONSUMER" => Kind::Consumer,
            _ => return None,
        })
    }
}

/// The attributes capsim reads, under their current OpenTelemetry names and the older ones.
#[derive(Debug, Default)]
pub struct Attributes {
    /// `service.instance.id` (or a host name standing in for it).
    pub instance: Option<String>,
    /// `http.route`.
    pub route: Option<String>,
    /// `http.request.method` or `http.method`.
    pub method: Option<String>,
    /// `http.response.status_code` or `http.status_code`.
    pub status_code: Option<i64>,
    /// `db.system.name` or `db.system`.
    pub db_system: Option<String>,
    /// `db.namespace` or `db.name`.
    pub db_namespace: Option<String>,
    /// `server.address`, `net.peer.name` or `peer.service`.
    pub peer: Option<String>,
    /// `messaging.destination.name` or `messaging.destination`.
    pub destination: Option<String>,
    /// `messaging.system`.
    pub messaging_system: Option<String>,
    /// `rpc.service` and `rpc.method` joined, for RPC servers without a route.
    pub rpc: Option<String>,
    /// An `error` tag set to true, or `otel.status_code` ERROR.
    pub error: bool,
}

impl Attributes {
    /// Take one attribute by its key; keys capsim does not read are ignored.
    pub fn set(&mut self, key: &str, value: String) {
        let slot = match key {
            "service.instance.id" => &mut self.instance,
            "host.name" | "hostname" => {
                if self.instance.is_none() {
                    self.instance = Some(value);
                }
                return;
            }
            "http.route" => &mut self.route,
            "http.request.method" | "http.method" => &mut self.method,
            "http.response.status_code" | "http.status_code" => {
                self.status_code = value.trim().parse().ok();
                return;
            }
            "db.system.name" | "db.system" => &mut self.db_system,
            "db.namespace" | "db.name" => &mut self.db_namespace,
            "server.address" | "net.peer.name" => &mut self.peer,
            "peer.service" => {
                self.peer = Some(value);
                return;
            }
            "messaging.destination.name" | "messaging.destination" => &mut self.destination,
            "messaging.system" => &mut self.messaging_system,
            "rpc.service" | "rpc.method" => {
                self.rpc = Some(match self.rpc.take() {
                    Some(before) if key == "rpc.method" => format!("{before}/{value}"),
                    Some(before) => format!("{value}/{before}"),
                    None => value,
                });
                return;
            }
            "error" => {
                self.error |= value.eq_ignore_ascii_case("true");
                return;
            }
            "otel.status_code" => {
                self.error |= value.eq_ignore_ascii_case("error");
                return;
            }
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

/// Key-value stores that are caches when a service looks something up in them.
const CACHE_STORES: [&str; 6] = ["redis", "memcached", "valkey", "hazelcast", "aerospike", "coherence"];

/// A name as capsim writes it: lower case letters, digits, `_` and `-`; runs of anything else
/// become one `_` ("GET /items/{id}" → "get_items_id"); "root" when nothing is left.
pub fn capsim_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches(|c| c == '_' || c == '-');
    if trimmed.is_empty() {
        "root".to_string()
    } else {
        trimmed.to_string()
    }
}

impl RawSpan {
    /// The span's role, its names interned in `names`.
    pub fn role(&self, names: &mut Names) -> Role {
        let a = &self.attributes;
        match self.kind {
            Kind::Server | Kind::Consumer => {
                let label = match (&a.route, &a.method, &a.rpc) {
                    (Some(route), Some(method), _) => format!("{method} {route}"),
                    (Some(route), None, _) => route.clone(),
                    (None, _, Some(rpc)) => rpc.clone(),
                    (None, _, None) => self.name.clone(),
                };
                Role::Served {
                    endpoint: names.sym(&capsim_name(&label)),
                }
            }
            Kind::Producer => {
                let destination = a.destination.clone().unwrap_or_else(|| self.name.clone());
                Role::Publish {
                    destination: names.sym(&capsim_name(&destination)),
                }
            }
            Kind::Client | Kind::Unspecified | Kind::Internal => match &a.db_system {
                Some(system) if CACHE_STORES.contains(&system.to_ascii_lowercase().as_str()) => {
                    let store = a.peer.clone().unwrap_or_else(|| system.clone());
                    Role::Lookup {
                        store: names.sym(&capsim_name(&store)),
                    }
                }
                Some(system) => {
                    let database = a
                        .db_namespace
                        .clone()
                        .or_else(|| a.peer.clone())
                        .unwrap_or_else(|| system.clone());
                    Role::Query {
                        database: names.sym(&capsim_name(&database)),
                    }
                }
                None if self.kind == Kind::Client => {
                    let peer = a.peer.clone().unwrap_or_else(|| self.name.clone());
                    Role::Call {
                        peer: names.sym(&capsim_name(&peer)),
                    }
                }
                None => Role::Internal,
            },
        }
    }
}

/// Parse a hex id of at most 32 digits (trace) or 16 (span); None when it is not hex or too long.
pub fn parse_hex_id(text: &str, digits: usize) -> Option<u128> {
    let text = text.trim();
    if text.is_empty() || text.len() > digits {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsim_name_keeps_what_a_model_name_may_hold() {
        assert_eq!(capsim_name("GET /items/{id}"), "get_items_id");
        assert_eq!(capsim_name("POST /orders"), "post_orders");
        assert_eq!(capsim_name("/"), "root");
        assert_eq!(capsim_name("oteldemo.CartService/GetCart"), "oteldemo_cartservice_getcart");
    }

    #[test]
    fn kind_reads_every_format_s_spelling() {
        assert_eq!(Kind::parse("2"), Some(Kind::Server));
        assert_eq!(Kind::parse("SPAN_KIND_CLIENT"), Some(Kind::Client));
        assert_eq!(Kind::parse("PRODUCER"), Some(Kind::Producer));
        assert_eq!(Kind::parse("consumer"), Some(Kind::Consumer));
        assert_eq!(Kind::parse("sideways"), None);
    }
}
