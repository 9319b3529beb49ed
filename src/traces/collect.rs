//! What capsim keeps of a trace file as it streams by, in memory bounded whatever the file's size:
//! per endpoint every request's latency (an HDR histogram), errors and instances; per entry point
//! the arrivals over time (counts in buckets that widen to stay at most [`MAX_BUCKETS`]); and a
//! uniform sample of whole traces for the model's structure — a trace is kept when the hash of its
//! id is below a threshold that falls as the sample fills, so every span of a kept trace is kept,
//! whichever line or file it comes in, and at most [`Bounds::max_spans`] spans are held.

use super::read::{read_file, FileRead, TraceError};
use super::span::{Names, RawSpan, Role, Span, Sym};
use crate::stats::LatencyHistogram;
use indexmap::{IndexMap, IndexSet};
use std::collections::BTreeMap;
use std::path::Path;

/// Most buckets of an entry point's arrival counts; the bucket width doubles beyond.
pub const MAX_BUCKETS: usize = 4096;

/// Most instances counted per service.
const MAX_INSTANCES: usize = 100_000;

/// How much of the traces to keep.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Most spans of sampled traces held at once (about 72 bytes each); 0 keeps no sample.
    pub max_spans: usize,
}

impl Bounds {
    /// Rates and latencies only, no sample of traces (what a calibration's replay needs).
    pub const MEASUREMENTS_ONLY: Bounds = Bounds { max_spans: 0 };
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_spans: 2_000_000 }
    }
}

/// Arrival counts in buckets of a width that doubles as the time range grows.
#[derive(Clone, Debug)]
pub struct Arrivals {
    /// Bucket width, in nanoseconds.
    pub width_ns: i64,
    /// The first bucket's index in widths since the epoch.
    pub base: i64,
    /// Arrivals per bucket.
    pub counts: Vec<u64>,
    /// All arrivals.
    pub total: u64,
}

impl Arrivals {
    fn new() -> Arrivals {
        Arrivals {
            width_ns: 1_000_000_000,
            base: 0,
            counts: Vec::new(),
            total: 0,
        }
    }

    fn record(&mut self, at_ns: i64) {
        self.total += 1;
        loop {
            let k = at_ns.div_euclid(self.width_ns);
            if self.counts.is_empty() {
                self.base = k;
                self.counts.push(1);
                return;
            }
            let last = self.base + self.counts.len() as i64 - 1;
            let (low, high) = (k.min(self.base), k.max(last));
            if ((high - low + 1) as usize) <= MAX_BUCKETS {
                if k < self.base {
                    let mut grown = vec![0; (self.base - k) as usize];
                    grown.extend_from_slice(&self.counts);
                    self.counts = grown;
                    self.base = k;
                } else if k > last {
                    self.counts.resize((k - self.base + 1) as usize, 0);
                }
                self.counts[(k - self.base) as usize] += 1;
                return;
            }
            self.widen();
        }
    }

    /// Double the bucket width, merging pairs of buckets.
    fn widen(&mut self) {
        let new_base = self.base.div_euclid(2);
        let mut merged = vec![0; self.counts.len() / 2 + 2];
        for (i, c) in self.counts.iter().enumerate() {
            merged[((self.base + i as i64).div_euclid(2) - new_base) as usize] += c;
        }
        while merged.last() == Some(&0) {
            merged.pop();
        }
        self.width_ns *= 2;
        self.base = new_base;
        self.counts = merged;
    }
}

/// Every request one endpoint served, as measured by its server spans.
#[derive(Clone, Debug, Default)]
pub struct Served {
    /// Durations of its server spans.
    pub latency: LatencyHistogram,
    /// Requests that failed.
    pub errors: u64,
    /// The earliest start and the latest end seen.
    pub first_ns: i64,
    /// The latest end seen.
    pub last_ns: i64,
}

/// What was read of the trace files.
#[derive(Debug)]
pub struct Collection {
    /// Interned names.
    pub names: Names,
    /// Per (service, endpoint): every request served.
    pub served: IndexMap<(Sym, Sym), Served>,
    /// Per (service, endpoint) that began traces: arrivals over time.
    pub entries: IndexMap<(Sym, Sym), Arrivals>,
    /// Per service: its instances.
    pub instances: IndexMap<Sym, IndexSet<Sym>>,
    /// The earliest span start.
    pub first_ns: i64,
    /// The latest span end.
    pub last_ns: i64,
    /// Spans read.
    pub spans: u64,
    /// Spans ending before they start (read as lasting nothing).
    pub backwards: u64,
    /// Each file and what was found in it.
    pub files: Vec<(String, FileRead)>,
    /// The sampled traces, by the hash of their id.
    sample: BTreeMap<u64, Vec<Span>>,
    /// Traces whose hash is at or above this are not kept.
    threshold: u64,
    held: usize,
    bounds: Bounds,
}

/// A well-mixed 64-bit hash of a trace id (splitmix64 of both halves).
fn trace_hash(trace: u128) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    mix(mix(trace as u64) ^ (trace >> 64) as u64)
}

impl Collection {
    /// An empty collection.
    pub fn new(bounds: Bounds) -> Collection {
        Collection {
            names: Names::default(),
            served: IndexMap::new(),
            entries: IndexMap::new(),
            instances: IndexMap::new(),
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            spans: 0,
            backwards: 0,
            files: Vec::new(),
            sample: BTreeMap::new(),
            // No room for a sample: no trace is below the threshold.
            threshold: if bounds.max_spans == 0 { 0 } else { u64::MAX },
            held: 0,
            bounds,
        }
    }

    /// Read the files in order; `progress` hears (file index, bytes of it read).
    pub fn read(
        paths: &[impl AsRef<Path>],
        bounds: Bounds,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<Collection, TraceError> {
        let mut collection = Collection::new(bounds);
        for (i, path) in paths.iter().enumerate() {
            let found = read_file(path.as_ref(), &mut |raw| collection.add(raw), &mut |bytes| progress(i, bytes))?;
            collection.files.push((path.as_ref().display().to_string(), found));
        }
        Ok(collection)
    }

    /// Take one span.
    pub fn add(&mut self, raw: RawSpan) {
        self.spans += 1;
        let role = raw.role(&mut self.names);
        // Named as a model names things; a span without one is OpenTelemetry's "unknown_service".
        let service = if raw.service.trim().is_empty() {
            self.names.sym("unknown_service")
        } else {
            self.names.sym(&super::span::capsim_name(&raw.service))
        };
        let instance = match &raw.attributes.instance {
            Some(instance) => self.names.sym(instance),
            None => service,
        };
        let end_ns = if raw.end_ns < raw.start_ns {
            self.backwards += 1;
            raw.start_ns
        } else {
            raw.end_ns
        };
        let error = raw.error || raw.attributes.status_code.is_some_and(|c| c >= 500);
        let span = Span {
            trace: raw.trace,
            id: raw.id,
            parent: raw.parent,
            service,
            instance,
            role,
            start_ns: raw.start_ns,
            end_ns,
            error,
        };
        self.first_ns = self.first_ns.min(span.start_ns);
        self.last_ns = self.last_ns.max(span.end_ns);
        let instances = self.instances.entry(service).or_default();
        if instances.len() < MAX_INSTANCES {
            instances.insert(instance);
        }
        if let Role::Served { endpoint } = role {
            let served = self.served.entry((service, endpoint)).or_insert_with(|| Served {
                first_ns: i64::MAX,
                last_ns: i64::MIN,
                ..Served::default()
            });
            served.latency.record(span.duration_ns());
            served.errors += u64::from(span.error);
            served.first_ns = served.first_ns.min(span.start_ns);
            served.last_ns = served.last_ns.max(span.end_ns);
            if span.parent == 0 {
                self.entries
                    .entry((service, endpoint))
                    .or_insert_with(Arrivals::new)
                    .record(span.start_ns);
            }
        }
        self.keep(span);
    }

    fn keep(&mut self, span: Span) {
        let hash = trace_hash(span.trace);
        if hash >= self.threshold {
            return;
        }
        self.sample.entry(hash).or_default().push(span);
        self.held += 1;
        if self.held > self.bounds.max_spans {
            // Drop the traces of the highest hashes until a tenth of the room is free again.
            let target = self.bounds.max_spans - self.bounds.max_spans / 10;
            while self.held > target {
                let Some((hash, spans)) = self.sample.pop_last() else { break };
                self.held -= spans.len();
                self.threshold = hash;
            }
        }
    }

    /// The sampled traces' spans, trace by trace.
    pub fn traces(&self) -> impl Iterator<Item = &[Span]> {
        self.sample.values().map(Vec::as_slice)
    }

    /// Traces kept in the sample.
    pub fn traces_kept(&self) -> usize {
        self.sample.len()
    }

    /// The share of all traces the sample holds (1 when nothing had to be dropped).
    pub fn sampled_share(&self) -> f64 {
        if self.threshold == u64::MAX {
            1.0
        } else {
            self.threshold as f64 / u64::MAX as f64
        }
    }

    /// Seconds from the first span's start to the last one's end.
    pub fn span_secs(&self) -> f64 {
        if self.last_ns <= self.first_ns {
            0.0
        } else {
            (self.last_ns - self.first_ns) as f64 / 1e9
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_widen_and_keep_every_count() {
        let mut a = Arrivals::new();
        for s in 0..10_000i64 {
            a.record(s * 1_000_000_000 + 5);
        }
        assert!(a.counts.len() <= MAX_BUCKETS);
        assert_eq!(a.counts.iter().sum::<u64>(), 10_000);
        assert_eq!(a.width_ns, 4_000_000_000);
        assert!(a.counts[..a.counts.len() - 1].iter().all(|&c| c == 4));
    }

    #[test]
    fn arrivals_before_the_first_grow_the_front() {
        let mut a = Arrivals::new();
        a.record(10_000_000_000);
        a.record(2_000_000_000);
        assert_eq!((a.base, a.counts.len(), a.total), (2, 9, 2));
    }
}
