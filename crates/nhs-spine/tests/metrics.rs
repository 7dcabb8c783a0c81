//! Each upstream call is counted and timed through the `metrics` facade, labelled by upstream
//! and outcome only: no NHS number reaches a label.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ctx, nhs, start};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[test]
fn upstream_calls_are_counted_and_timed_without_patient_data() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // current-thread runtime: the thread-local recorder sees every await point
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let env = start(|_| {}).await;
            let rec = env.sds().lookup_gp_connect("B82617").await.unwrap();
            env.gpc()
                .get_structured_record(&nhs("9690937278"), &rec, &ctx())
                .await
                .unwrap();
            env.gpc()
                .get_structured_record(&nhs("9000000084"), &rec, &ctx())
                .await
                .unwrap_err();
            env.pds()
                .read_patient(&nhs("9000000041"), &ctx())
                .await
                .unwrap();
            env.sandbox.shutdown().await;
        })
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let mut counters = Vec::new();
    for (key, _, _, value) in &snapshot {
        let k = key.key();
        for label in k.labels() {
            assert!(
                !label.value().chars().all(|c| c.is_ascii_digit()) || label.value().len() < 10,
                "{label:?}"
            );
        }
        if let DebugValue::Counter(n) = value {
            let labels: Vec<String> = k
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            counters.push((k.name().to_owned(), labels.join(","), *n));
        }
    }
    let count = |labels: &str| {
        counters
            .iter()
            .filter(|(n, l, _)| n == "spine_upstream_requests_total" && l == labels)
            .map(|(_, _, n)| *n)
            .sum::<u64>()
    };
    assert_eq!(count("upstream=gpconnect,outcome=ok"), 1, "{counters:?}");
    assert_eq!(
        count("upstream=gpconnect,outcome=client_error"),
        1,
        "{counters:?}"
    );
    assert_eq!(count("upstream=sds,outcome=ok"), 2, "{counters:?}");
    assert_eq!(count("upstream=pds,outcome=not_found"), 1, "{counters:?}");
    assert_eq!(count("upstream=pds_token,outcome=ok"), 1, "{counters:?}");
    assert!(snapshot.iter().any(|(k, _, _, v)| k.key().name()
        == "spine_upstream_duration_seconds"
        && matches!(v, DebugValue::Histogram(h) if !h.is_empty())));
}

#[test]
fn open_circuits_are_a_gauge_per_upstream_with_no_practice_label() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let env = start(|_| {}).await;
            let rec = env.sds().lookup_gp_connect("B82617").await.unwrap();
            let mut cfg = env.gpc_config.clone();
            cfg.resilience.max_retries = 0;
            cfg.resilience.breaker_failure_threshold = 1;
            cfg.resilience.breaker_open_ms = 60_000;
            let gpc = nhs_spine::gpconnect::GpConnectClient::new(cfg).unwrap();
            gpc.get_structured_record(&nhs("9000000122"), &rec, &ctx())
                .await
                .unwrap_err();
            env.sandbox.shutdown().await;
        })
    });
    let gauges: Vec<(String, f64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| k.key().name() == "spine_circuit_open")
        .filter_map(|(k, _, _, v)| match v {
            DebugValue::Gauge(g) => Some((
                k.key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect::<Vec<_>>()
                    .join(","),
                g.into_inner(),
            )),
            _ => None,
        })
        .collect();
    let get = |labels: &str| gauges.iter().find(|(l, _)| l == labels).map(|(_, v)| *v);
    assert_eq!(get("upstream=gpconnect"), Some(1.0), "{gauges:?}");
    assert_eq!(get("upstream=sds"), Some(0.0), "{gauges:?}");
    assert!(gauges.iter().all(|(l, _)| !l.contains(',')), "{gauges:?}");
}
