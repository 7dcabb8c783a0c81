//! Shared server plumbing: configuration helpers, telemetry, health and metrics.
