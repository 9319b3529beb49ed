//! Traces in: spans in the forms teams collect (OTLP JSON as the OpenTelemetry Collector writes
//! it, Zipkin v2, Jaeger), read in bounded memory ([`collect`]), made into a model ([`infer`]) and into what production measured per endpoint ([`observed`]) and
//! into the measurements a model is calibrated against ([`observed`]).

pub mod collect;
pub mod fit;
pub mod infer;
pub mod jaeger;
pub mod observed;
pub mod otlp;
pub mod read;
pub mod span;
pub mod tree;
pub mod zipkin;
