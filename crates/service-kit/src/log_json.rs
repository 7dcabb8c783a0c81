//! One JSON object per log line, with the fields a log pipeline (ELK, Loki) indexes at the top
//! level: `timestamp` (RFC 3339, UTC), `level`, `target`, `message`, the event's own fields,
//! and, for every line logged inside a request, `request_id`, `trace_id` and `span_id`.
//!
//! tracing-subscriber's own JSON format nests span fields under `span`/`spans` and knows no
//! OpenTelemetry ids, so a pipeline could not index them without per-line rewriting.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The request id a span was opened with (its `request_id` field), kept in the span's
/// extensions by [`RequestIdLayer`] so every line logged below it can name it.
#[derive(Debug, Clone)]
pub(crate) struct SpanRequestId(pub String);

/// Remembers the `request_id` field of every span that has one.
pub(crate) struct RequestIdLayer;

struct FindRequestId(Option<String>);

impl Visit for FindRequestId {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "request_id" {
            // `%id` records through Display, which reaches here as Debug of a Display wrapper.
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for RequestIdLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if attrs.metadata().fields().field("request_id").is_none() {
            return;
        }
        let mut find = FindRequestId(None);
        attrs.record(&mut find);
        if let (Some(rid), Some(span)) = (find.0, ctx.span(id)) {
            span.extensions_mut().insert(SpanRequestId(rid));
        }
    }
}

/// Event fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// The event formatter (use with [`JsonFields`] so span fields are stored as JSON).
pub(crate) struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        // Event fields first, so the fixed keys below win over a field of the same name.
        event.record(&mut Fields(&mut line));
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        if let Some(leaf) = ctx.lookup_current() {
            let mut span = Map::new();
            span.insert("name".into(), leaf.name().into());
            {
                let ext = leaf.extensions();
                if let Some(fields) = ext.get::<FormattedFields<JsonFields>>()
                    && let Ok(Value::Object(f)) = serde_json::from_str::<Value>(fields)
                {
                    span.extend(f);
                }
            }
            line.insert("span".into(), Value::Object(span));
            let request_id = leaf
                .scope()
                .find_map(|s| s.extensions().get::<SpanRequestId>().map(|r| r.0.clone()));
            if let Some(rid) = request_id {
                line.insert("request_id".into(), rid.into());
            }
            // No extension guard is held here: reading the OpenTelemetry context locks them.
            // `get_default` inside an event callback sees the global dispatcher (what `init`
            // installs); under a scoped one (`set_default`) it sees none, and the ids are left out.
            let id = leaf.id();
            let otel = tracing::dispatcher::get_default(|d| {
                tracing_opentelemetry::get_otel_context(&id, d)
            });
            if let Some(cx) = otel {
                let sc = cx.span().span_context().clone();
                if sc.is_valid() {
                    line.insert("trace_id".into(), sc.trace_id().to_string().into());
                    line.insert("span_id".into(), sc.span_id().to_string().into());
                }
            }
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}
