//! From the model format to a resolved [`Model`]: names become typed ids, defaults are filled,
//! and everything that cannot run is reported with its JSON path.

use super::dist::Dist;
use super::error::Diagnostic;
use super::spec::*;
use super::units::{format_duration, Nanos};
use super::validate_resilience as resilience;
use super::*;
use std::collections::HashMap;

/// A validated model with the warnings found on the way (e.g. load above capacity).
#[derive(Clone, Debug)]
pub struct Validated {
    /// The model, ready to run.
    pub model: Model,
    /// Problems that do not stop a run but deserve attention.
    pub warnings: Vec<Diagnostic>,
}

/// Default simulated duration: one hour.
const DEFAULT_DURATION_NS: Nanos = 3_600_000_000_000;
/// Default number of time-series windows after warm-up.
const DEFAULT_WINDOWS: u64 = 60;
/// Most time-series windows, so memory stays bounded whatever the duration.
pub(super) const MAX_WINDOWS: u64 = 10_000;
/// Most instances of all services together (each has its own worker line and statistics).
const MAX_INSTANCES: u32 = 100_000;
/// Most closed-loop users of one client (each is tracked individually).
const MAX_USERS: u32 = 1_000_000;
/// Most repetitions of a recurring injection (each is a timed action of its own).
const MAX_REPEATS: u64 = 10_000;
/// Requests in flight before a run is declared unstable, unless `limits.max_in_flight` says
/// otherwise: 100,000 more than the closed-loop users (who are never more requests than users).
fn default_max_in_flight(clients: &[Client]) -> u32 {
    let users: u64 = clients
        .iter()
        .map(|c| match c.arrivals {
            Arrivals::Closed { users, .. } => u64::from(users),
            Arrivals::Open { .. } => 0,
        })
        .sum();
    (100_000 + users).min(u64::from(u32::MAX)) as u32
}

/// Memory a run may need unless `limits.max_memory` says otherwise: 2 GB.
pub const DEFAULT_MAX_MEMORY: u64 = 2_000_000_000;
/// Most replications of one run (each keeps its histograms until they are merged).
const MAX_REPLICATIONS: u32 = 10_000;

/// Collects diagnostics while resolving.
pub(super) struct Checker {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker {
    /// Errors found so far.
    pub(super) fn error_count(&self) -> usize {
        self.errors.len()
    }

    pub(super) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            path: path.into(),
            message: message.into(),
        });
    }
    pub(super) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// A map key written into a dotted path, quoted when it is not a plain identifier.
pub(super) fn key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

/// Names of every kind of component, to resolve references and links.
struct Names<'a> {
    spec: &'a ModelSpec,
    endpoints: HashMap<String, EndpointId>,
}

impl Names<'_> {
    /// Resolve "service.endpoint", explaining what exists when it does not.
    fn endpoint(&self, reference: &str) -> Result<EndpointId, String> {
        if let Some(&id) = self.endpoints.get(reference) {
            return Ok(id);
        }
        let Some((service, _)) = reference.split_once('.') else {
            return Err(format!("expected \"service.endpoint\", got \"{reference}\""));
        };
        match self.spec.services.get(service) {
            None => Err(format!(
                "no service named \"{service}\" (services: {})",
                list(self.spec.services.keys())
            )),
            Some(s) => Err(format!(
                "service \"{service}\" has no endpoint \"{}\" (endpoints: {})",
                &reference[service.len() + 1..],
                list(s.endpoints.keys())
            )),
        }
    }
}

/// A list of names for a message, or "none".
fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<_> = names.map(|n| format!("\"{n}\"")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Validate a parsed model: resolve names, apply defaults, reject what cannot run.
pub fn validate(spec: &ModelSpec) -> Result<Validated, Vec<Diagnostic>> {
    let mut check = Checker {
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    check_unique_names(spec, &mut check);
    check_calibration(spec, &mut check);

    // Endpoints get ids first, so calls can refer forward.
    let mut endpoint_names = HashMap::new();
    let mut endpoint_count = 0;
    for (service_name, service) in &spec.services {
        if service.endpoints.is_empty() {
            check.error(
                format!("services.{}.endpoints", key(service_name)),
                "a service needs at least one endpoint",
            );
        }
        for endpoint_name in service.endpoints.keys() {
            endpoint_names.insert(format!("{service_name}.{endpoint_name}"), EndpointId(endpoint_count));
            endpoint_count += 1;
        }
    }
    let names = Names {
        spec,
        endpoints: endpoint_names,
    };
    let links = LinkTable::new(spec, &mut check);

    if let Some(r) = spec.replications.filter(|r| r.0 > MAX_REPLICATIONS) {
        check.error(
            "replications",
            format!("expected at most {MAX_REPLICATIONS} replications, got {}", r.0),
        );
    }
    let duration_ns = spec.duration.map_or(DEFAULT_DURATION_NS, |d| d.0);
    if duration_ns == 0 {
        check.error("duration", "expected a duration above 0");
    }
    let warmup_ns = spec.warmup.map_or(duration_ns / 20, |d| d.0);
    if warmup_ns >= duration_ns && duration_ns > 0 {
        check.error(
            "warmup",
            format!(
                "the warm-up ({}) must be shorter than the duration ({})",
                format_duration(warmup_ns),
                format_duration(duration_ns)
            ),
        );
    }
    let observed = duration_ns.saturating_sub(warmup_ns).max(1);
    let window_ns = match spec.window {
        Some(w) if w.0 == 0 => {
            check.error("window", "expected a duration above 0");
            observed
        }
        Some(w) if observed / w.0 > MAX_WINDOWS => {
            check.error(
                "window",
                format!(
                    "{} gives more than {MAX_WINDOWS} windows over {}; use at least {}",
                    format_duration(w.0),
                    format_duration(observed),
                    format_duration(observed.div_ceil(MAX_WINDOWS))
                ),
            );
            observed
        }
        Some(w) => w.0,
        None => observed.div_ceil(DEFAULT_WINDOWS).max(1),
    };

    let databases: Vec<Database> = spec
        .databases
        .iter()
        .map(|(name, d)| resolve_database(name, d, &mut check))
        .collect();
    let database_id = |name: &str| spec.databases.get_index_of(name).map(DatabaseId);

    let mut pools = Vec::new();
    for (name, p) in &spec.pools {
        let path = format!("pools.{}", key(name));
        let Some(database) = database_id(&p.database) else {
            check.error(
                format!("{path}.database"),
                format!(
                    "no database named \"{}\" (databases: {})",
                    p.database,
                    list(spec.databases.keys())
                ),
            );
            continue;
        };
        pools.push(Pool {
            name: name.clone(),
            database,
            size: p.size.0,
            acquire_timeout_ns: p.acquire_timeout.map(|d| d.0),
        });
    }
    for (d, db) in databases.iter().enumerate() {
        let reserved: u64 = pools
            .iter()
            .filter(|p| p.database == DatabaseId(d))
            .map(|p| u64::from(p.size))
            .sum();
        if reserved > u64::from(db.max_connections) {
            check.error(
                format!("databases.{}.max_connections", key(&db.name)),
                format!(
                    "its pools hold {reserved} connections, more than max_connections = {}",
                    db.max_connections
                ),
            );
        }
    }

    let total_instances: u64 = spec
        .services
        .values()
        .map(|s| u64::from(s.autoscaling.as_ref().map_or(s.instances.map_or(1, |n| n.0), |a| a.max.0)))
        .sum();
    if total_instances > u64::from(MAX_INSTANCES) {
        check.error(
            "services",
            format!("expected at most {MAX_INSTANCES} instances in all, got {total_instances}"),
        );
    }
    let mut classes: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for (name, c) in &spec.clients {
        if let Some(class) = c.class.as_ref().filter(|class| !classes.contains(class)) {
            classes.push(class.clone());
        }
        if let Some(group) = c.group.as_ref().filter(|group| !groups.contains(group)) {
            let taken = spec.clients.contains_key(group)
                || spec.services.contains_key(group)
                || spec.databases.contains_key(group)
                || spec.pools.contains_key(group);
            if taken || group.is_empty() || group.contains('.') {
                check.error(
                    format!("clients.{}.group", key(name)),
                    format!("a group's name must be non-empty, without \".\", and not a component's name (\"{group}\")"),
                );
            } else {
                groups.push(group.clone());
            }
        }
    }
    let mut services = Vec::new();
    let mut endpoints = Vec::new();
    let mut call_sites: Vec<CallSite> = Vec::new();
    let mut effects: Vec<String> = Vec::new();
    let mut limits: Vec<Limit> = Vec::new();
    let mut key_spaces = KeySpaces::default();
    for (s, (service_name, service)) in spec.services.iter().enumerate() {
        let path = format!("services.{}", key(service_name));
        let mut ids = Vec::new();
        let endpoint_limits = service.endpoint_rate_limits.as_ref();
        if let Some(by_name) = endpoint_limits {
            for name in by_name.keys().filter(|n| !service.endpoints.contains_key(*n)) {
                let known: Vec<&str> = service.endpoints.keys().map(String::as_str).collect();
                check.error(
                    format!("{path}.endpoint_rate_limits.{}", key(name)),
                    format!(
                        "service \"{service_name}\" has no endpoint \"{name}\" (endpoints: {})",
                        known.join(", ")
                    ),
                );
            }
        }
        for (endpoint_name, steps) in &service.endpoints {
            let endpoint_path = format!("{path}.endpoints.{}", key(endpoint_name));
            if steps.is_empty() {
                check.error(&endpoint_path, "an endpoint needs at least one step");
            }
            let endpoint_full = format!("{service_name}.{endpoint_name}");
            let mut step_effects = Vec::new();
            let mut shares = Vec::new();
            let (steps, caches): (Vec<Step>, Vec<Option<Cache>>) = steps
                .iter()
                .enumerate()
                .filter_map(|(i, step)| {
                    let step_path = format!("{endpoint_path}[{i}]");
                    let effect = step
                        .effect
                        .as_deref()
                        .and_then(|e| resilience::effect_id(e, &mut effects, &format!("{step_path}.effect"), &mut check));
                    let unnamed = format!("{endpoint_full}[{i}]");
                    let cache = resolve_cache(step, &step_path, &unnamed, spec, &mut key_spaces, &mut check);
                    let context = StepContext {
                        service_name,
                        endpoint: &endpoint_full,
                        spec,
                        names: &names,
                        links: &links,
                        databases: &databases,
                        pools: &pools,
                    };
                    let share = step.share.map_or(1.0, |f| f.0);
                    if !(share > 0.0 && share <= 1.0) {
                        check.error(
                            format!("{step_path}.share"),
                            format!("expected a share of requests above 0 and at most 1, got {share}"),
                        );
                    }
                    let resolved = resolve_step(step, &step_path, &context, (&mut call_sites, &mut limits), &mut check)?;
                    step_effects.push(effect);
                    shares.push(share);
                    Some((resolved, cache))
                })
                .unzip();
            ids.push(EndpointId(endpoints.len()));
            endpoints.push(Endpoint {
                service: ServiceId(s),
                name: endpoint_full,
                steps,
                effects: step_effects,
                caches,
                shares,
                rate_limit: endpoint_limits.and_then(|l| l.get(endpoint_name)).and_then(|r| {
                    resilience::rate_limit(
                        r,
                        &format!("{service_name}.{endpoint_name}.rate_limit"),
                        &format!("{path}.endpoint_rate_limits.{}", key(endpoint_name)),
                        &mut limits,
                        &mut check,
                    )
                }),
            });
        }
        if let Some(n) = service.instances.filter(|n| n.0 > MAX_INSTANCES) {
            check.error(
                format!("{path}.instances"),
                format!("expected at most {MAX_INSTANCES} instances, got {}", n.0),
            );
        }
        if service.health_check.as_ref().is_some_and(|h| h.interval.0 == 0) {
            check.error(format!("{path}.health_check.interval"), "expected a duration above 0");
        }
        if let Some(n) = service.autoscaling.as_ref().map(|a| a.max).filter(|n| n.0 > MAX_INSTANCES) {
            check.error(
                format!("{path}.autoscaling.max"),
                format!("expected at most {MAX_INSTANCES} instances, got {}", n.0),
            );
        }
        let lines = resolve_lines(service.queue.as_ref(), &classes, &format!("{path}.queue"), &mut check);
        let instances = service.instances.map_or(1, |n| n.0);
        let autoscaling = service.autoscaling.as_ref().and_then(|a| {
            super::validate_autoscaling::autoscaling(a, instances, spec, &format!("{path}.autoscaling"), &mut check)
        });
        services.push(Service {
            name: service_name.clone(),
            instances,
            workers: service.workers.map_or(1, |n| n.0),
            lines,
            balancer: service.balancer.unwrap_or(Balancer::RoundRobin),
            health_check_ns: service.health_check.as_ref().map(|h| h.interval.0),
            retry_other_instance: service.retry_other_instance.unwrap_or(false),
            async_max_in_flight: service.asynchronous.as_ref().map(|a| a.max_in_flight.0),
            endpoints: ids,
            on_caller_gone: service.on_caller_gone.unwrap_or(CallerGone::Finish),
            idempotency: resilience::idempotency(service.idempotency.as_ref(), &path, &mut check),
            autoscaling,
            cores: match (service.cores, service.cpu_sharing) {
                (Some(c), sharing) => Some((c.0, sharing.unwrap_or(CpuSharing::Ps))),
                (None, Some(_)) => {
                    check.error(
                        format!("{path}.cpu_sharing"),
                        "says how CPU steps share the \"cores\": give the cores",
                    );
                    None
                }
                (None, None) => None,
            },
            rate_limit: service.rate_limit.as_ref().and_then(|r| {
                let name = format!("{service_name}.rate_limit");
                resilience::rate_limit(r, &name, &format!("{path}.rate_limit"), &mut limits, &mut check)
            }),
        });
    }

    let mut clients = Vec::new();
    for (name, c) in &spec.clients {
        let path = format!("clients.{}", key(name));
        if c.load_test.is_some() && (c.open.is_some() || c.closed.is_some()) {
            check.error(&path, "a client needs exactly one of \"open\", \"closed\" or \"load_test\"");
            continue;
        }
        let arrivals = match (&c.open, &c.closed) {
            (None, None) if c.load_test.is_some() => {
                match c
                    .load_test
                    .as_ref()
                    .and_then(|t| resolve_load_test(t, spec, &format!("{path}.load_test"), &mut check))
                {
                    Some(arrivals) => arrivals,
                    None => continue,
                }
            }
            (Some(open), None) => Arrivals::Open {
                rate_per_s: open.rate.0,
                profile: open
                    .profile
                    .as_ref()
                    .and_then(|p| resolve_profile(p, &format!("{path}.open.profile"), &mut check)),
            },
            (None, Some(closed)) if closed.users.0 > MAX_USERS => {
                check.error(
                    format!("{path}.closed.users"),
                    format!("expected at most {MAX_USERS} users, got {}", closed.users.0),
                );
                continue;
            }
            (None, Some(closed)) if closed.deadline.is_some() && closed.requests.is_none() => {
                check.warn(
                    format!("{path}.closed.deadline"),
                    "a deadline applies to users with a fixed number of \"requests\"; without one it is ignored",
                );
                Arrivals::Closed {
                    users: closed.users.0,
                    think: closed.think.as_ref().map_or(Dist::constant(0.0), |d| d.0.clone()),
                    requests: None,
                    start_ns: closed.start.map_or(0, |d| d.0),
                    deadline_ns: None,
                }
            }
            (None, Some(closed)) => Arrivals::Closed {
                users: closed.users.0,
                think: closed.think.as_ref().map_or(Dist::constant(0.0), |d| d.0.clone()),
                requests: closed.requests.map(|r| r.0),
                start_ns: closed.start.map_or(0, |d| d.0),
                deadline_ns: closed.deadline.map(|d| d.0),
            },
            _ => {
                check.error(&path, "a client needs exactly one of \"open\", \"closed\" or \"load_test\"");
                continue;
            }
        };
        let target = match names.endpoint(&c.calls) {
            Ok(t) => t,
            Err(why) => {
                check.error(format!("{path}.calls"), why);
                continue;
            }
        };
        let service_name = &spec
            .services
            .get_index(endpoints[target.0].service.0)
            .map_or("", |s| s.0.as_str())
            .to_string();
        let policies = resilience::SitePolicies {
            retry: c.retry.as_ref(),
            throttle: c.throttle.as_ref(),
            breaker: c.breaker.as_ref(),
            rate_limit: c.rate_limit.as_ref(),
            bulkhead: c.bulkhead.as_ref(),
            hedge: c.hedge.as_ref(),
        };
        call_sites.push(resilience::call_site(
            format!("client {name}"),
            policies,
            name,
            1,
            &mut limits,
            &path,
            &mut check,
        ));
        clients.push(Client {
            name: name.clone(),
            class: c.class.as_ref().and_then(|class| classes.iter().position(|k| k == class)),
            group: c.group.as_ref().and_then(|group| groups.iter().position(|g| g == group)),
            arrivals,
            call: Call {
                target,
                timeout_ns: resolve_timeout(c.timeout, &format!("{path}.timeout"), &mut check),
                retry: resolve_retry(c.retry.as_ref(), &path, &mut check),
                link: links.between(name, service_name),
                site: call_sites.len() - 1,
            },
            synthetic: c.synthetic.unwrap_or(c.load_test.is_some()),
        });
    }

    let mut queues = Vec::new();
    for (name, q) in &spec.queues {
        let target = names.endpoint(&q.consumer.calls);
        let site = call_sites.len();
        let make_call = |target: EndpointId, timeout_ns: Option<Nanos>| Call {
            target,
            timeout_ns,
            retry: Retry::none(),
            link: links.between(name, &services[endpoints[target.0].service.0].name),
            site,
        };
        let published = spec
            .services
            .values()
            .flat_map(|s| s.endpoints.values().flatten())
            .any(|step| step.publish.as_deref() == Some(name.as_str()));
        if let Some(resolved) = resilience::queue(name, q, target, make_call, published, &mut check) {
            call_sites.push(CallSite {
                name: format!("queue {name} consumer"),
                ..CallSite::default()
            });
            queues.push(resolved);
        }
    }
    let metastability = spec.metastability.as_ref().and_then(|m| {
        let component = m.metric.split('.').next().unwrap_or_default();
        let known = spec.clients.contains_key(component)
            || spec.services.contains_key(component)
            || spec.databases.contains_key(component)
            || spec.pools.contains_key(component)
            || spec.queues.contains_key(component);
        if known && m.metric.contains('.') {
            Some(m.metric.clone())
        } else {
            check.error(
                "metastability.metric",
                format!(
                    "expected \"component.statistic\" naming a client, endpoint, service, database, pool or queue, \
                     like \"search.utilisation\" or \"website.p99\", got \"{}\"",
                    m.metric
                ),
            );
            None
        }
    });

    let slos = resolve_slos(spec, &names, &mut check);
    let key_spaces = key_spaces.spaces;
    let actions = resolve_actions(spec, &links, &databases, &key_spaces, duration_ns, &mut check);
    super::validate_autoscaling::check_combinations(&services, &queues, |e| endpoints[e].service.0, &actions, &mut check);
    if check.errors.is_empty() {
        check_call_cycles(&endpoints, &mut check);
    }
    if !check.errors.is_empty() {
        return Err(check.errors);
    }
    let model = Model {
        name: spec.name.clone().unwrap_or_else(|| "model".into()),
        description: spec.description.clone().unwrap_or_default(),
        duration_ns,
        warmup_ns,
        window_ns,
        replications: spec.replications.map_or(5, |r| r.0),
        seed: spec.seed.unwrap_or(1),
        max_events: spec.limits.max_events.unwrap_or(2_000_000_000),
        max_in_flight: spec
            .limits
            .max_in_flight
            .map_or_else(|| default_max_in_flight(&clients), |n| n.0),
        max_memory: spec.limits.max_memory.map_or(DEFAULT_MAX_MEMORY, |b| b.0),
        clients,
        classes,
        groups,
        services,
        endpoints,
        databases,
        pools,
        slos,
        links: links.names(),
        actions,
        queues,
        call_sites,
        effects,
        limits,
        key_spaces,
        metastability,
    };
    let need = super::memory::estimate(&model);
    if need.total(1) > model.max_memory {
        return Err(vec![Diagnostic {
            path: "limits.max_memory".into(),
            message: super::memory::refusal(&model, &need, model.max_memory),
        }]);
    }
    super::capacity::warn_about_overload(&model, &mut check.warnings);
    Ok(Validated {
        model,
        warnings: check.warnings,
    })
}

/// Component names are shared by links, so a name may be used by one component only.
/// The calibration section: trace files named, a sampling rate that is a share.
fn check_calibration(spec: &ModelSpec, check: &mut Checker) {
    let Some(c) = &spec.calibration else { return };
    if c.traces.is_empty() {
        check.error("calibration.traces", "expected at least one trace file");
    }
    for (i, t) in c.traces.iter().enumerate() {
        if t.trim().is_empty() {
            check.error(
                format!("calibration.traces[{i}]"),
                "expected a file name, got an empty string",
            );
        }
    }
    if let Some(rate) = c.sampling_rate.filter(|r| !(r.0 > 0.0 && r.0 <= 1.0)) {
        check.error(
            "calibration.sampling_rate",
            format!("expected a share of traces above 0 and at most 1, got {}", rate.0),
        );
    }
}

fn check_unique_names(spec: &ModelSpec, check: &mut Checker) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let kinds = [
        ("clients", spec.clients.keys().collect::<Vec<_>>()),
        ("services", spec.services.keys().collect()),
        ("databases", spec.databases.keys().collect()),
        ("pools", spec.pools.keys().collect()),
        ("queues", spec.queues.keys().collect()),
        (
            "queues.*.producers",
            spec.queues.values().flat_map(|q| q.producers.keys()).collect(),
        ),
    ];
    for (kind, names) in kinds {
        for name in names {
            if name.is_empty() || name.contains('.') || name.contains("->") {
                check.error(
                    format!("{kind}.{}", key(name)),
                    "a name must be non-empty and contain neither \".\" nor \"->\"",
                );
            }
            if let Some(other) = seen.insert(name, kind) {
                check.error(
                    format!("{kind}.{}", key(name)),
                    format!("the name is already used in {other}"),
                );
            }
        }
    }
}

/// Link latencies by unordered pair of component names, with an optional default; every pair a
/// call or query crosses gets a [`LinkId`] on first use.
struct LinkTable {
    pairs: HashMap<(String, String), Dist>,
    default: Option<Dist>,
    used: std::cell::RefCell<Vec<(String, String)>>,
}

impl LinkTable {
    fn new(spec: &ModelSpec, check: &mut Checker) -> LinkTable {
        let mut table = LinkTable {
            pairs: HashMap::new(),
            default: None,
            used: std::cell::RefCell::new(Vec::new()),
        };
        let known = |n: &str| {
            spec.clients.contains_key(n)
                || spec.services.contains_key(n)
                || spec.databases.contains_key(n)
                || spec.queues.contains_key(n)
        };
        for (name, link) in &spec.links {
            let path = format!("links.{}", key(name));
            if name == "default" {
                table.default = Some(link.latency.0.clone());
                continue;
            }
            let Some((a, b)) = name.split_once("->").map(|(a, b)| (a.trim(), b.trim())) else {
                check.error(path, "expected a key like \"api -> pg\" or \"default\"");
                continue;
            };
            for end in [a, b] {
                if !known(end) {
                    check.error(&path, format!("no client, service, database or queue named \"{end}\""));
                }
            }
            table.pairs.insert(Self::pair(a, b), link.latency.0.clone());
        }
        table
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    }

    /// The link between two components: its id and round-trip latency (`None` means zero).
    fn between(&self, a: &str, b: &str) -> Link {
        let pair = Self::pair(a, b);
        let latency = self.pairs.get(&pair).or(self.default.as_ref()).cloned();
        let mut used = self.used.borrow_mut();
        let id = match used.iter().position(|p| *p == pair) {
            Some(i) => i,
            None => {
                used.push(pair);
                used.len() - 1
            }
        };
        Link { id: LinkId(id), latency }
    }

    /// The id of the link between two components, if a call or query crosses it.
    fn find(&self, a: &str, b: &str) -> Option<LinkId> {
        let pair = Self::pair(a, b);
        self.used.borrow().iter().position(|p| *p == pair).map(LinkId)
    }

    /// Names of the links used, by id.
    fn names(&self) -> Vec<String> {
        self.used.borrow().iter().map(|(a, b)| format!("{a} -> {b}")).collect()
    }
}

/// What a step is resolved against: its service and endpoint, and the model's components.
struct StepContext<'a> {
    service_name: &'a str,
    endpoint: &'a str,
    spec: &'a ModelSpec,
    names: &'a Names<'a>,
    links: &'a LinkTable,
    databases: &'a [Database],
    pools: &'a [Pool],
}

/// Resolve one endpoint step; `None` (with an error recorded) when it cannot be. A call step
/// adds its call site to `sites`.
fn resolve_step(
    step: &StepSpec,
    path: &str,
    cx: &StepContext,
    (sites, limits): (&mut Vec<CallSite>, &mut Vec<Limit>),
    check: &mut Checker,
) -> Option<Step> {
    let StepContext {
        service_name,
        spec,
        names,
        links,
        databases,
        pools,
        ..
    } = *cx;
    let kinds = [
        step.cpu.is_some(),
        // With `publish`, `delay` is the messages' delay, not a step of its own.
        step.delay.is_some() && step.publish.is_none(),
        step.call.is_some(),
        step.transaction.is_some(),
        step.publish.is_some(),
    ];
    if kinds.iter().filter(|&&k| k).count() != 1 {
        check.error(
            path,
            "a step needs exactly one of \"cpu\", \"delay\", \"call\", \"transaction\", \"publish\"",
        );
        return None;
    }
    if step.publish.is_none() && step.messages.is_some() {
        check.error(format!("{path}.messages"), "\"messages\" belongs to a \"publish\" step");
        return None;
    }
    if step.call.is_none() && step.hedge.is_some() {
        check.error(format!("{path}.hedge"), "\"hedge\" belongs to a \"call\" step");
        return None;
    }
    if let Some(name) = &step.publish {
        if step.cache.is_some() {
            check.error(
                format!("{path}.cache"),
                "a cache goes in front of a \"call\" or a \"transaction\", not a \"publish\"",
            );
            return None;
        }
        let Some((queue, _, q)) = spec.queues.get_full(name) else {
            let known: Vec<&str> = spec.queues.keys().map(String::as_str).collect();
            check.error(
                format!("{path}.publish"),
                format!(
                    "no queue \"{name}\" (queues: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
            return None;
        };
        // The consumer's endpoint is checked with the queue; an unknown one is reported there.
        let consumer = names.endpoint(&q.consumer.calls).ok()?;
        return Some(Step::Publish(Publish {
            queue: queue as u32,
            messages: step.messages.map_or(1, |m| m.0),
            consumer,
            delay: step.delay.as_ref().map(|d| d.0.clone()).filter(|d| d.mean_secs() > 0.0),
        }));
    }
    if step.call.is_none()
        && (step.timeout.is_some() || step.retry.is_some() || step.throttle.is_some() || step.breaker.is_some())
    {
        check.error(
            path,
            "\"timeout\", \"retry\", \"throttle\" and \"breaker\" belong to a \"call\" step",
        );
        return None;
    }
    if step.call.is_none() && (step.rate_limit.is_some() || step.bulkhead.is_some()) {
        let field = if step.rate_limit.is_some() { "rate_limit" } else { "bulkhead" };
        check.error(
            format!("{path}.{field}"),
            format!(
                "\"{field}\" belongs to a \"call\" step (a limit on all of a service's requests is services.{}.rate_limit)",
                key(service_name)
            ),
        );
        return None;
    }
    if let Some(d) = &step.cpu {
        return Some(Step::Cpu(d.0.clone()));
    }
    if let Some(d) = &step.delay {
        return Some(Step::Delay(d.0.clone()));
    }
    if let Some(reference) = &step.call {
        let target = match names.endpoint(reference) {
            Ok(t) => t,
            Err(why) => {
                check.error(format!("{path}.call"), why);
                return None;
            }
        };
        let target_service = reference.split('.').next().unwrap_or_default();
        let policies = resilience::SitePolicies {
            retry: step.retry.as_ref(),
            throttle: step.throttle.as_ref(),
            breaker: step.breaker.as_ref(),
            rate_limit: step.rate_limit.as_ref(),
            bulkhead: step.bulkhead.as_ref(),
            hedge: step.hedge.as_ref(),
        };
        // Limits are named after the call; a second call to the same endpoint gets a number.
        let mut limit_name = format!("{}->{reference}", cx.endpoint);
        let taken = |n: &str| {
            limits
                .iter()
                .any(|l| l.name.starts_with(n) && l.name[n.len()..].starts_with('.'))
        };
        for k in 2.. {
            if !taken(&limit_name) {
                break;
            }
            limit_name = format!("{}->{reference}#{k}", cx.endpoint);
        }
        let instances = spec.services.get(service_name).and_then(|s| s.instances).map_or(1, |n| n.0);
        sites.push(resilience::call_site(
            format!("{} → {reference}", cx.endpoint),
            policies,
            &limit_name,
            instances,
            limits,
            path,
            check,
        ));
        return Some(Step::Call(Call {
            target,
            timeout_ns: resolve_timeout(step.timeout, &format!("{path}.timeout"), check),
            retry: resolve_retry(step.retry.as_ref(), path, check),
            link: links.between(service_name, target_service),
            site: sites.len() - 1,
        }));
    }
    let tx = step.transaction.as_ref()?;
    let tx_path = format!("{path}.transaction");
    let (connection, database) = match (&tx.pool, &tx.database) {
        (Some(pool), None) => match spec.pools.get_index_of(pool) {
            Some(p) if p < pools.len() && pools[p].name == *pool => (ConnectionSource::Pool(PoolId(p)), pools[p].database),
            Some(_) => return None, // the pool itself is invalid and already reported
            None => {
                check.error(
                    format!("{tx_path}.pool"),
                    format!("no pool named \"{pool}\" (pools: {})", list(spec.pools.keys())),
                );
                return None;
            }
        },
        (None, Some(db)) => match spec.databases.get_index_of(db) {
            Some(d) => (ConnectionSource::Direct, DatabaseId(d)),
            None => {
                check.error(
                    format!("{tx_path}.database"),
                    format!("no database named \"{db}\" (databases: {})", list(spec.databases.keys())),
                );
                return None;
            }
        },
        _ => {
            check.error(tx_path, "a transaction needs exactly one of \"pool\" or \"database\"");
            return None;
        }
    };
    let db = &databases[database.0];
    let writes = tx.writes.map_or(0.0, |w| w.0);
    if writes > 0.0 && db.rows.is_none() {
        check.error(
            format!("{tx_path}.writes"),
            format!(
                "writes grow the data relative to the rows it had when costs were measured: set databases.{}.data.rows",
                key(&db.name)
            ),
        );
    }
    let group = tx
        .group
        .as_ref()
        .and_then(|g| resolve_group(db, g, &format!("{tx_path}.group"), check));
    Some(Step::Transaction(Transaction {
        connection,
        database,
        queries: tx.queries.map_or(1, |q| q.0),
        query: tx.query.0.scaled(db.cost_scaling.multiplier(db.data_factor)),
        link: links.between(service_name, &db.name),
        writes,
        group,
    }))
}

/// The index of resource group `name` of `db`, or an error listing its groups.
fn resolve_group(db: &Database, name: &str, path: &str, check: &mut Checker) -> Option<usize> {
    let found = db.groups.iter().position(|g| g.name == name);
    if found.is_none() {
        let names: Vec<String> = db.groups.iter().map(|g| g.name.clone()).collect();
        check.error(
            path,
            format!(
                "database \"{}\" has no resource group \"{name}\" (resource_groups: {})",
                db.name,
                list(names.iter())
            ),
        );
    }
    found
}

/// A database: its cores, data and resource groups.
fn resolve_database(name: &str, d: &DatabaseSpec, check: &mut Checker) -> Database {
    let path = format!("databases.{}", key(name));
    let cores = d.cores.map_or(1, |c| c.0);
    let rows = d.data.as_ref().and_then(|data| data.rows).map(|r| r.0);
    let cost_scaling = match d.data.as_ref().and_then(|data| data.cost.as_ref()) {
        None | Some(CostScalingSpec::Named(CostScalingName::Linear)) => CostScaling::Linear,
        Some(CostScalingSpec::Named(CostScalingName::NLogN)) => match rows {
            Some(rows) if rows > 1.0 => CostScaling::NLogN { rows },
            _ => {
                check.error(
                    format!("{path}.data.rows"),
                    "\"n_log_n\" needs the rows the costs were measured with (more than 1)",
                );
                CostScaling::Linear
            }
        },
        Some(CostScalingSpec::Table(points)) => {
            let points: Vec<(f64, f64)> = points.iter().map(|[s, m]| (s.0, m.0)).collect();
            if points.is_empty() || points.windows(2).any(|w| w[1].0 <= w[0].0) {
                check.error(
                    format!("{path}.data.cost"),
                    "expected at least one [size, multiplier] point, in increasing size",
                );
            }
            CostScaling::Table(points)
        }
    };
    if rows.is_some_and(|r| r <= 0.0) {
        check.error(format!("{path}.data.rows"), "expected a number of rows above 0");
    }
    let groups: Vec<ResourceGroup> = d
        .resource_groups
        .iter()
        .map(|(name, g)| ResourceGroup {
            name: name.clone(),
            cores: g.cores.0,
        })
        .collect();
    let reserved: u64 = groups.iter().map(|g| u64::from(g.cores)).sum();
    if reserved >= u64::from(cores) && !groups.is_empty() {
        check.error(
            format!("{path}.resource_groups"),
            format!("the groups reserve {reserved} of the {cores} cores: at least one must stay shared"),
        );
    }
    Database {
        name: name.to_string(),
        cores,
        max_connections: d.max_connections.map_or(100, |c| c.0),
        data_factor: d.data_factor.map_or(1.0, |f| f.0),
        usl_sigma: d.contention.as_ref().map_or(0.0, |c| c.sigma.0),
        usl_kappa: d.contention.as_ref().and_then(|c| c.kappa).map_or(0.0, |k| k.0),
        rows,
        cost_scaling,
        groups,
    }
}

/// Most keys a cache's key space may have: its state is arrays of this length per replication.
pub const MAX_KEYS: u32 = 10_000_000;

/// The caches with a key space met so far: each with the path of the step that declared it first.
#[derive(Default)]
struct KeySpaces {
    spaces: Vec<KeySpace>,
    first_path: Vec<String>,
}

/// The cache in front of a step, if it has one; a key space joins `spaces` (a named one once,
/// however many steps share it).
fn resolve_cache(
    step: &StepSpec,
    path: &str,
    unnamed: &str,
    spec: &ModelSpec,
    spaces: &mut KeySpaces,
    check: &mut Checker,
) -> Option<Cache> {
    let c = step.cache.as_ref()?;
    let path = format!("{path}.cache");
    if step.call.is_none() && step.transaction.is_none() {
        check.error(&path, "a cache belongs to a \"call\" or \"transaction\" step");
        return None;
    }
    let serve_stale = c.serve_stale.unwrap_or(false);
    if c.timeout.is_some() && !serve_stale {
        check.error(
            format!("{path}.timeout"),
            "a cache timeout answers from the stale copy: set \"serve_stale\": true",
        );
        return None;
    }
    let lookup = match (c.hit_ratio, c.keys) {
        (Some(ratio), None) => {
            let key_space_fields = [
                ("popularity", c.popularity.is_some()),
                ("capacity", c.capacity.is_some()),
                ("ttl", c.ttl.is_some()),
                ("coalesce", c.coalesce.is_some()),
                ("warm", c.warm.is_some()),
                ("name", c.name.is_some()),
            ];
            if let Some((field, _)) = key_space_fields.iter().find(|(_, set)| *set) {
                check.error(
                    format!("{path}.{field}"),
                    format!("\"{field}\" belongs to a cache with a key space (\"keys\"), not to a fixed \"hit_ratio\""),
                );
                return None;
            }
            if ratio.0 > 1.0 {
                check.error(
                    format!("{path}.hit_ratio"),
                    format!("expected a share from 0 to 1, got {}", ratio.0),
                );
                return None;
            }
            Lookup::Ratio(ratio.0)
        }
        (None, Some(keys)) => Lookup::Keys(resolve_key_space(c, keys.0, &path, unnamed, spec, spaces, check)?),
        (Some(_), Some(_)) => {
            check.error(
                &path,
                "a cache has either a fixed \"hit_ratio\" or a key space (\"keys\"), not both",
            );
            return None;
        }
        (None, None) => {
            check.error(
                &path,
                "a cache needs exactly one of \"hit_ratio\" (a fixed share of hits) or \"keys\" (a key space)",
            );
            return None;
        }
    };
    Some(Cache {
        lookup,
        hit: c.hit.as_ref().map_or(Dist::constant(0.0005), |d| d.0.clone()),
        serve_stale,
        timeout_ns: resolve_timeout(c.timeout, &format!("{path}.timeout"), check),
    })
}

/// The key space of cache `c` (at `path`) with `keys` keys: its index in `spaces`, a named one
/// shared with the steps before that named it.
fn resolve_key_space(
    c: &CacheSpec,
    keys: u32,
    path: &str,
    unnamed: &str,
    spec: &ModelSpec,
    spaces: &mut KeySpaces,
    check: &mut Checker,
) -> Option<u32> {
    if keys > MAX_KEYS {
        check.error(
            format!("{path}.keys"),
            format!("expected at most {MAX_KEYS} keys (each costs memory in every replication), got {keys}"),
        );
        return None;
    }
    if let Some(ttl) = c.ttl.filter(|t| t.0 == 0) {
        check.error(
            format!("{path}.ttl"),
            format!("expected a time to live above 0, got {}", format_duration(ttl.0)),
        );
        return None;
    }
    let space = KeySpace {
        name: c.name.clone().unwrap_or_else(|| unnamed.to_string()),
        keys,
        popularity: c.popularity.map_or(Popularity::Uniform, |p| p.0),
        capacity: c.capacity.map_or(keys, |n| n.0.min(keys)),
        ttl_ns: c.ttl.map(|t| t.0),
        coalesce: c.coalesce.unwrap_or(false),
        warm: c.warm.unwrap_or(false),
    };
    let Some(name) = &c.name else {
        spaces.spaces.push(space);
        spaces.first_path.push(path.to_string());
        return Some(spaces.spaces.len() as u32 - 1);
    };
    let taken = spec.clients.contains_key(name)
        || spec.services.contains_key(name)
        || spec.databases.contains_key(name)
        || spec.pools.contains_key(name)
        || spec.queues.contains_key(name)
        || spec.clients.values().any(|cl| cl.group.as_ref() == Some(name));
    if taken || name.is_empty() || name.contains('.') || name.contains("->") {
        check.error(
            format!("{path}.name"),
            format!("a cache's name must be non-empty, without \".\" or \"->\", and not a component's name (\"{name}\")"),
        );
        return None;
    }
    match spaces.spaces.iter().position(|s| &s.name == name) {
        Some(i) if spaces.spaces[i] == space => Some(i as u32),
        Some(i) => {
            check.error(
                path,
                format!(
                    "the cache \"{name}\" is declared at {} with another key space: steps that share a cache \
                     declare the same \"keys\", \"popularity\", \"capacity\", \"ttl\", \"coalesce\" and \"warm\"",
                    spaces.first_path[i]
                ),
            );
            None
        }
        None => {
            spaces.spaces.push(space);
            spaces.first_path.push(path.to_string());
            Some(spaces.spaces.len() as u32 - 1)
        }
    }
}

/// A load test: the rate and profile of the real client it follows, times (scale − 1).
fn resolve_load_test(t: &LoadTestSpec, spec: &ModelSpec, path: &str, check: &mut Checker) -> Option<Arrivals> {
    let Some(real) = spec.clients.get(&t.of) else {
        check.error(
            format!("{path}.of"),
            format!("no client named \"{}\" (clients: {})", t.of, list(spec.clients.keys())),
        );
        return None;
    };
    let Some(open) = &real.open else {
        check.error(
            format!("{path}.of"),
            format!("\"{}\" is not an open client: a load test follows a rate", t.of),
        );
        return None;
    };
    if t.scale.0 < 1.0 {
        check.error(
            format!("{path}.scale"),
            format!("a load test adds traffic: expected a scale of at least 1, got {}", t.scale.0),
        );
        return None;
    }
    let profile_path = format!("clients.{}.open.profile", key(&t.of));
    // Errors of the real client's profile are reported once, with it.
    let mut quiet = Checker {
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    Some(Arrivals::Open {
        rate_per_s: open.rate.0 * (t.scale.0 - 1.0),
        profile: open
            .profile
            .as_ref()
            .and_then(|p| resolve_profile(p, &profile_path, &mut quiet)),
    })
}

fn resolve_timeout(timeout: Option<values::DurationValue>, path: &str, check: &mut Checker) -> Option<Nanos> {
    match timeout {
        Some(t) if t.0 == 0 => {
            check.error(path, "expected a duration above 0 (leave it out to wait forever)");
            None
        }
        t => t.map(|t| t.0),
    }
}

fn resolve_retry(retry: Option<&RetrySpec>, path: &str, check: &mut Checker) -> Retry {
    let Some(r) = retry else {
        return Retry::none();
    };
    let retry_on = match r.retry_on.as_deref() {
        None => RetryOn::ALL,
        Some([]) => {
            check.error(
                format!("{path}.retry.retry_on"),
                "expected at least one of \"timeout\", \"rejected\", \"error\", \"rate_limited\" (leave out \"retry\" to never retry)",
            );
            RetryOn::ALL
        }
        Some(kinds) => RetryOn {
            timeout: kinds.contains(&RetryOnSpec::Timeout),
            rejected: kinds.contains(&RetryOnSpec::Rejected),
            error: kinds.contains(&RetryOnSpec::Error),
            rate_limited: kinds.contains(&RetryOnSpec::RateLimited),
        },
    };
    Retry {
        attempts: r.attempts.map_or(3, |a| a.0),
        backoff_ns: r.backoff.map_or(100_000_000, |b| b.0),
        multiplier: r.multiplier.map_or(2.0, |m| m.0),
        max_backoff_ns: r.max_backoff.map_or(10_000_000_000, |b| b.0),
        jitter: r.jitter.unwrap_or(Jitter::Full),
        retry_on,
    }
}

/// Hours and factors of a named daily shape (relative to the day's peak), linear in between.
fn daily_points(shape: DailyShape) -> &'static [(f64, f64)] {
    match shape {
        DailyShape::LunchAndDinner => &[
            (0.0, 0.05),
            (7.0, 0.05),
            (10.5, 0.15),
            (12.5, 0.55),
            (14.5, 0.2),
            (17.0, 0.3),
            (19.0, 1.0),
            (21.0, 0.45),
            (23.0, 0.1),
        ],
        DailyShape::OfficeHours => &[(0.0, 0.05), (7.0, 0.1), (9.0, 1.0), (17.0, 1.0), (19.0, 0.2), (22.0, 0.05)],
        DailyShape::Evening => &[
            (0.0, 0.3),
            (4.0, 0.05),
            (8.0, 0.2),
            (12.0, 0.4),
            (18.0, 0.7),
            (21.0, 1.0),
            (23.0, 0.6),
        ],
        DailyShape::Flat => &[(0.0, 1.0)],
    }
}

/// Nanoseconds in one hour.
const HOUR_NS: f64 = 3.6e12;

fn resolve_profile(p: &ProfileSpec, path: &str, check: &mut Checker) -> Option<Profile> {
    let (points, period, linear): (Vec<(Nanos, f64)>, Option<Nanos>, bool) = match (p.daily, p.points.is_empty()) {
        (Some(shape), true) => {
            if p.period.is_some() || p.shape.is_some() {
                check.error(
                    path,
                    "a \"daily\" shape has its own period (24h) and shape: leave \"period\" and \"shape\" out",
                );
                return None;
            }
            let points = daily_points(shape)
                .iter()
                .map(|&(h, f)| ((h * HOUR_NS) as Nanos, f))
                .collect();
            (points, Some((24.0 * HOUR_NS) as Nanos), true)
        }
        (Some(_), false) => {
            check.error(path, "a profile needs exactly one of \"points\" or \"daily\"");
            return None;
        }
        (None, true) => {
            check.error(format!("{path}.points"), "expected at least one point (or a \"daily\" shape)");
            return None;
        }
        (None, false) => (
            p.points.iter().map(|pt| (pt.at.0, pt.factor.0)).collect(),
            p.period.map(|d| d.0),
            p.shape.unwrap_or(ProfileShape::Linear) == ProfileShape::Linear,
        ),
    };
    for (i, w) in points.windows(2).enumerate() {
        if w[1].0 < w[0].0 {
            check.error(format!("{path}.points[{}].at", i + 1), "points must be in time order");
            return None;
        }
    }
    if let Some(period) = period {
        let last = points.last().map_or(0, |pt| pt.0);
        if period == 0 || last >= period {
            check.error(
                format!("{path}.period"),
                "the period must be longer than the time of the last point",
            );
            return None;
        }
    }
    let points = match (p.clock, period) {
        (None, _) => points,
        (Some(clock), Some(period)) if clock.0 < period => rotate(&points, clock.0, period),
        (Some(_), Some(period)) => {
            check.error(
                format!("{path}.clock"),
                format!("expected a time within the period (below {})", format_duration(period)),
            );
            return None;
        }
        (Some(_), None) => {
            check.error(
                format!("{path}.clock"),
                "a clock time needs a repeating profile (a \"period\" or \"daily\")",
            );
            return None;
        }
    };
    Some(Profile {
        points,
        linear,
        period_ns: period,
    })
}

/// The points of a repeating profile as seen from a run that starts at `clock` within the
/// period: each moves to (t − clock) mod period. The cyclic order, and so the function, is kept.
fn rotate(points: &[(Nanos, f64)], clock: Nanos, period: Nanos) -> Vec<(Nanos, f64)> {
    let mut rotated: Vec<(Nanos, f64)> = points.iter().map(|&(t, f)| ((t + period - clock) % period, f)).collect();
    rotated.sort_by_key(|&(t, _)| t);
    rotated
}

fn resolve_slos(spec: &ModelSpec, names: &Names, check: &mut Checker) -> Vec<Slo> {
    let mut slos = Vec::new();
    for (name, s) in &spec.slos {
        let path = format!("slos.{}", key(name));
        let target = if let Some(c) = spec.clients.get_index_of(name) {
            SloTarget::Client(ClientId(c))
        } else if let Some(s) = spec.services.get_index_of(name) {
            SloTarget::Service(ServiceId(s))
        } else {
            match names.endpoint(name) {
                Ok(e) => SloTarget::Endpoint(e),
                Err(why) => {
                    check.error(
                        &path,
                        format!("expected a client name, a service name or \"service.endpoint\": {why}"),
                    );
                    continue;
                }
            }
        };
        let latency: Vec<(f64, Nanos)> = [(0.5, s.p50), (0.9, s.p90), (0.99, s.p99), (0.999, s.p999)]
            .into_iter()
            .filter_map(|(q, bound)| bound.map(|b| (q, b.0)))
            .collect();
        let error_rate = s.error_rate.map(|f| f.0);
        if error_rate.is_some_and(|r| r > 1.0) {
            check.error(format!("{path}.error_rate"), "expected a share from 0 to 1");
        }
        let mean = s.mean.map(|m| m.0);
        let waited = s.waited.map(|f| f.0);
        if waited.is_some_and(|r| r > 1.0) {
            check.error(format!("{path}.waited"), "expected a share from 0 to 1");
        }
        if matches!(target, SloTarget::Service(_)) {
            if mean.is_some() || !latency.is_empty() || error_rate.is_some() {
                check.error(
                    &path,
                    "a service's SLO takes \"waited\" only: latency and errors are objectives of its endpoints (\"service.endpoint\")",
                );
            } else if waited.is_none() {
                check.error(
                    &path,
                    "a service's SLO needs \"waited\" (the share of its requests that wait for a worker)",
                );
            }
            if s.judge.is_some() {
                check.error(format!("{path}.judge"), "a service's SLO is judged on the run");
            }
        } else if waited.is_some() {
            check.error(
                format!("{path}.waited"),
                "\"waited\" is an objective of a service: key the SLO by the service's name",
            );
        } else if mean.is_none() && latency.is_empty() && error_rate.is_none() {
            check.error(&path, "an SLO needs at least one of mean, p50, p90, p99, p999, error_rate");
        }
        let judge = match s.judge.as_deref().map(Judge::parse).transpose() {
            Ok(judge) => judge.unwrap_or(Judge::Run),
            Err(why) => {
                check.error(format!("{path}.judge"), why);
                Judge::Run
            }
        };
        slos.push(Slo {
            name: name.clone(),
            target,
            mean,
            latency,
            error_rate,
            waited,
            judge,
        });
    }
    slos
}

/// Synchronous calls must form no cycle: a request would wait on itself; nor may publishing lead
/// back to the publisher (its consumer calling what publishes again): the load would have no end.
fn check_call_cycles(endpoints: &[Endpoint], check: &mut Checker) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(e: usize, endpoints: &[Endpoint], marks: &mut [Mark], stack: &mut Vec<usize>) -> Option<Vec<usize>> {
        marks[e] = Mark::Active;
        stack.push(e);
        for step in &endpoints[e].steps {
            let next = match step {
                Step::Call(call) => Some(call.target.0),
                Step::Publish(p) => Some(p.consumer.0),
                _ => None,
            };
            if let Some(t) = next {
                match marks[t] {
                    Mark::Active => {
                        let from = stack.iter().position(|&x| x == t).unwrap_or(0);
                        let mut cycle = stack[from..].to_vec();
                        cycle.push(t);
                        return Some(cycle);
                    }
                    Mark::New => {
                        if let Some(c) = visit(t, endpoints, marks, stack) {
                            return Some(c);
                        }
                    }
                    Mark::Done => {}
                }
            }
        }
        stack.pop();
        marks[e] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; endpoints.len()];
    for e in 0..endpoints.len() {
        if marks[e] == Mark::New {
            if let Some(cycle) = visit(e, endpoints, &mut marks, &mut Vec::new()) {
                let names: Vec<_> = cycle.iter().map(|&i| endpoints[i].name.as_str()).collect();
                let called = |a: usize, b: usize| {
                    endpoints[a]
                        .steps
                        .iter()
                        .any(|s| matches!(s, Step::Call(c) if c.target.0 == b))
                };
                let what = if cycle.windows(2).all(|w| called(w[0], w[1])) {
                    "synchronous calls form a cycle"
                } else {
                    "calls and published messages form a cycle (a queue's consumer leads back to what publishes to it)"
                };
                check.error("services", format!("{what}: {}", names.join(" -> ")));
                return;
            }
        }
    }
}

/// Resolve the timed actions: names to ids, times within the run.
fn resolve_actions(
    spec: &ModelSpec,
    links: &LinkTable,
    databases: &[Database],
    key_spaces: &[KeySpace],
    duration_ns: Nanos,
    check: &mut Checker,
) -> Vec<TimedAction> {
    let mut actions = Vec::new();
    for (i, a) in spec.actions.iter().enumerate() {
        let path = format!("actions[{i}]");
        let kinds = [
            a.add_latency.is_some(),
            a.scale_traffic.is_some(),
            a.inject.is_some(),
            a.down.is_some(),
            a.crash.is_some(),
            a.crash_loop.is_some(),
            a.rollout.is_some(),
            a.flush.is_some(),
        ];
        if kinds.iter().filter(|&&k| k).count() != 1 {
            check.error(
                &path,
                "an action needs exactly one of \"add_latency\", \"scale_traffic\", \"inject\", \"down\", \"crash\", \
                 \"crash_loop\", \"rollout\", \"flush\"",
            );
            continue;
        }
        let mut until_ns = a.lasts.map(|d| a.at.0.saturating_add(d.0));
        if a.at.0 >= duration_ns {
            check.warn(
                format!("{path}.at"),
                format!("{} is not before the end of the run", format_duration(a.at.0)),
            );
        }
        let kind = if let Some(l) = &a.add_latency {
            let Some((x, y)) = l.link.split_once("->").map(|(x, y)| (x.trim(), y.trim())) else {
                check.error(
                    format!("{path}.add_latency.link"),
                    format!("expected \"a -> b\", got \"{}\"", l.link),
                );
                continue;
            };
            let Some(link) = links.find(x, y) else {
                check.error(
                    format!("{path}.add_latency.link"),
                    format!(
                        "no call or query goes between \"{x}\" and \"{y}\" (links crossed: {})",
                        links.names().join(", ")
                    ),
                );
                continue;
            };
            ActionKind::AddLatency {
                link,
                latency_ns: l.latency.0,
            }
        } else if let Some(t) = &a.scale_traffic {
            match spec.clients.get_index_of(&t.client) {
                Some(c) if spec.clients[c].open.is_some() => ActionKind::ScaleTraffic {
                    client: ClientId(c),
                    factor: t.factor.0,
                },
                Some(_) => {
                    check.error(
                        format!("{path}.scale_traffic.client"),
                        "only open clients have a rate to scale",
                    );
                    continue;
                }
                None => {
                    check.error(
                        format!("{path}.scale_traffic.client"),
                        format!("no client named \"{}\" (clients: {})", t.client, list(spec.clients.keys())),
                    );
                    continue;
                }
            }
        } else if let Some(j) = &a.inject {
            let Some(d) = spec.databases.get_index_of(&j.database) else {
                check.error(
                    format!("{path}.inject.database"),
                    format!(
                        "no database named \"{}\" (databases: {})",
                        j.database,
                        list(spec.databases.keys())
                    ),
                );
                continue;
            };
            let db = &databases[d];
            let group = j
                .group
                .as_ref()
                .and_then(|g| resolve_group(db, g, &format!("{path}.inject.group"), check));
            if j.group.is_some() && group.is_none() {
                continue;
            }
            let kind = ActionKind::Inject {
                database: DatabaseId(d),
                group,
                queries: j.queries.map_or(1, |q| q.0),
                cost: j.cost.0.scaled(db.cost_scaling.multiplier(db.data_factor)),
            };
            if let Some(every) = j.every {
                // A recurring injection is the same action at each interval, while it lasts.
                let end = until_ns.unwrap_or(duration_ns).min(duration_ns);
                let times = if every.0 == 0 {
                    u64::MAX
                } else {
                    end.saturating_sub(a.at.0).div_ceil(every.0)
                };
                if times > MAX_REPEATS {
                    check.error(
                        format!("{path}.inject.every"),
                        format!("repeats the injection {times} times: expected at most {MAX_REPEATS} (a longer interval, or a shorter \"for\")"),
                    );
                    continue;
                }
                for k in 0..times {
                    actions.push(TimedAction {
                        at_ns: a.at.0 + k * every.0,
                        until_ns: None,
                        kind: kind.clone(),
                    });
                }
                continue;
            }
            kind
        } else if let Some(down) = &a.down {
            let Some(s) = spec.services.get_index_of(&down.service) else {
                check.error(
                    format!("{path}.down.service"),
                    format!(
                        "no service named \"{}\" (services: {})",
                        down.service,
                        list(spec.services.keys())
                    ),
                );
                continue;
            };
            ActionKind::Down { service: ServiceId(s) }
        } else if let Some(crash) = &a.crash {
            let Some(s) = spec.services.get_index_of(&crash.service) else {
                check.error(
                    format!("{path}.crash.service"),
                    format!(
                        "no service named \"{}\" (services: {})",
                        crash.service,
                        list(spec.services.keys())
                    ),
                );
                continue;
            };
            if a.lasts.is_some() {
                check.error(format!("{path}.for"), "a crash lasts its \"restart\" time; leave \"for\" out");
                continue;
            }
            let all = spec.services[s].instances.map_or(1, |n| n.0);
            let instances = crash.instances.map_or(all, |n| n.0);
            if instances > all {
                check.error(
                    format!("{path}.crash.instances"),
                    format!("the service has {all} instances, got {instances}"),
                );
                continue;
            }
            until_ns = Some(a.at.0.saturating_add(crash.restart.0));
            ActionKind::Crash {
                service: ServiceId(s),
                instances,
            }
        } else if let Some(l) = &a.crash_loop {
            match resolve_crash_loop(spec, l, &format!("{path}.crash_loop"), check) {
                Some(l) => ActionKind::CrashLoop(l),
                None => continue,
            }
        } else if let Some(r) = &a.rollout {
            match resolve_rollout(spec, r, &format!("{path}.rollout"), check) {
                Some(r) => ActionKind::Rollout(r),
                None => continue,
            }
        } else if let Some(f) = &a.flush {
            let Some(cache) = key_spaces.iter().position(|k| k.name == f.cache) else {
                let named: Vec<&String> = key_spaces.iter().map(|k| &k.name).filter(|n| !n.contains('.')).collect();
                check.error(
                    format!("{path}.flush.cache"),
                    format!(
                        "no cache named \"{}\" (caches with a key space and a name: {})",
                        f.cache,
                        list(named.into_iter())
                    ),
                );
                continue;
            };
            if a.lasts.is_some() {
                check.error(format!("{path}.for"), "a flush happens at once; leave \"for\" out");
                continue;
            }
            ActionKind::Flush { cache: cache as u32 }
        } else {
            continue;
        };
        actions.push(TimedAction {
            at_ns: a.at.0,
            until_ns,
            kind,
        });
    }
    actions
}

/// The service named `name` at `path`, or an error listing the services.
fn service_named(spec: &ModelSpec, name: &str, path: &str, check: &mut Checker) -> Option<usize> {
    let found = spec.services.get_index_of(name);
    if found.is_none() {
        check.error(
            path,
            format!("no service named \"{name}\" (services: {})", list(spec.services.keys())),
        );
    }
    found
}

/// A share from 0 to 1 at `path`, or an error.
fn share(value: f64, path: &str, check: &mut Checker) -> Option<f64> {
    if value > 1.0 {
        check.error(path, format!("expected a share from 0 to 1, got {value}"));
        return None;
    }
    Some(value)
}

/// A crash loop: its service, how many instances, and what makes them crash.
fn resolve_crash_loop(spec: &ModelSpec, l: &CrashLoopSpec, path: &str, check: &mut Checker) -> Option<CrashLoop> {
    let s = service_named(spec, &l.service, &format!("{path}.service"), check)?;
    let all = spec.services[s].instances.map_or(1, |n| n.0);
    let instances = l.instances.map_or(all, |n| n.0);
    if instances > all {
        check.error(
            format!("{path}.instances"),
            format!("the service has {all} instances, got {instances}"),
        );
        return None;
    }
    let per_request = share(l.per_request.map_or(0.0, |p| p.0), &format!("{path}.per_request"), check)?;
    if l.uptime.is_none() && per_request == 0.0 {
        check.error(
            path,
            "a crash loop needs \"uptime\" (time between crashes) or \"per_request\" above 0",
        );
        return None;
    }
    if l.uptime.as_ref().is_some_and(|u| u.0.mean_secs() <= 0.0) {
        check.error(format!("{path}.uptime"), "expected a mean uptime above 0");
        return None;
    }
    Some(CrashLoop {
        service: ServiceId(s),
        instances,
        uptime: l.uptime.as_ref().map(|u| u.0.clone()),
        per_request,
        restart: l.restart.0.clone(),
        backoff: l.backoff.map_or(1.0, |b| b.0.max(1.0)),
        max_restart_ns: l.max_restart.map_or(300_000_000_000, |m| m.0),
        together: l.together.unwrap_or(false),
    })
}

/// A rollout: its service, the change, the canary and the rollback rule.
fn resolve_rollout(spec: &ModelSpec, r: &RolloutSpec, path: &str, check: &mut Checker) -> Option<Rollout> {
    let s = service_named(spec, &r.service, &format!("{path}.service"), check)?;
    let all = spec.services[s].instances.map_or(1, |n| n.0);
    let first = match r.canary {
        Some(c) => {
            let c = share(c.0, &format!("{path}.canary"), check)?;
            ((c * f64::from(all)).ceil() as u32).clamp(1, all)
        }
        None => all,
    };
    if r.bake.is_some() && r.canary.is_none() {
        check.warn(
            format!("{path}.bake"),
            "without a \"canary\" the change is everywhere from the start; \"bake\" is ignored",
        );
    }
    let rollback = match &r.rollback {
        None => None,
        Some(rb) => {
            let rule_path = format!("{path}.rollback");
            let error_rate = match rb.error_rate {
                Some(e) => Some(share(e.0, &format!("{rule_path}.error_rate"), check)?),
                None => None,
            };
            if error_rate.is_none() && rb.p99.is_none() {
                check.error(&rule_path, "a rollback rule needs \"error_rate\" or \"p99\"");
                return None;
            }
            let window_ns = rb.window.map_or(60_000_000_000, |w| w.0);
            if window_ns < 1_000_000 {
                check.error(format!("{rule_path}.window"), "expected a window of at least 1ms");
                return None;
            }
            Some(RollbackRule {
                error_rate,
                p99_ns: rb.p99.map(|p| p.0),
                window_ns,
                reaction_ns: rb.reaction.map_or(0, |d| d.0),
            })
        }
    };
    Some(Rollout {
        service: ServiceId(s),
        cpu_factor: r.cpu_factor.0,
        first,
        bake_ns: r.bake.filter(|_| r.canary.is_some()).map(|b| b.0),
        rollback,
    })
}

/// The waiting lines of a service's queue: one per class listed, in order, then the line of
/// every other request.
fn resolve_lines(queue: Option<&QueueSpec>, classes: &[String], path: &str, check: &mut Checker) -> Vec<QueueLine> {
    const LIFO_AFTER_NS: Nanos = 100_000_000;
    let mut lines = Vec::new();
    let class_lines = queue.and_then(|q| q.classes.as_ref());
    for (i, line) in class_lines.into_iter().flatten().enumerate() {
        let line_path = format!("{path}.classes[{i}]");
        let Some(class) = classes.iter().position(|k| *k == line.class) else {
            check.error(
                format!("{line_path}.class"),
                format!(
                    "no client sends requests of class \"{}\" (classes: {})",
                    line.class,
                    if classes.is_empty() {
                        "none".to_string()
                    } else {
                        classes.join(", ")
                    }
                ),
            );
            continue;
        };
        if lines.iter().any(|l: &QueueLine| l.class == Some(class)) {
            check.error(
                format!("{line_path}.class"),
                format!("class \"{}\" has a line already", line.class),
            );
            continue;
        }
        lines.push(QueueLine {
            class: Some(class),
            capacity: line.capacity.map(|c| c.0),
            discipline: line.discipline.unwrap_or(Discipline::Fifo),
            lifo_after_ns: line.lifo_after.map_or(LIFO_AFTER_NS, |d| d.0),
            max_wait_ns: resolve_max_wait(line.max_wait, &format!("{line_path}.max_wait"), check),
        });
    }
    lines.push(QueueLine {
        class: None,
        capacity: queue.and_then(|q| q.capacity).map(|c| c.0),
        discipline: queue.and_then(|q| q.discipline).unwrap_or(Discipline::Fifo),
        lifo_after_ns: queue.and_then(|q| q.lifo_after).map_or(LIFO_AFTER_NS, |d| d.0),
        max_wait_ns: resolve_max_wait(queue.and_then(|q| q.max_wait), &format!("{path}.max_wait"), check),
    });
    lines
}

/// A queue's `max_wait`: above zero.
fn resolve_max_wait(max_wait: Option<values::DurationValue>, path: &str, check: &mut Checker) -> Option<Nanos> {
    match max_wait {
        Some(w) if w.0 == 0 => {
            check.error(path, "expected a duration above 0 (leave it out to wait as long as it takes)");
            None
        }
        w => w.map(|w| w.0),
    }
}
