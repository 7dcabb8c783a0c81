//! The gateway's business flow, independent of SOAP: patient discovery through PDS (cached),
//! the practice's ASID and endpoint through SDS (cached), the GP Connect record (one call per
//! patient at a time), conversion to C-CDA and the document cache.
//!
//! Every upstream call is audited here; the transaction itself is audited by the caller,
//! which knows the IHE outcome. Errors are typed ([`FlowError`]) so each front end can map
//! them to its own answer (HL7 acknowledgement, ebXML registry error, HTML page).

use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use ccda_convert::{ConvertOptions, GatewayIdentity};
use chrono::{DateTime, NaiveDateTime, Utc};
use nhs_number::NhsNumber;
use nhs_spine::RequestingContext;
use nhs_spine::gpconnect::GpConnectError;
use nhs_spine::pds::PdsError;
use nhs_spine::pds_search::{SearchOutcome, SearchQuery};
use nhs_spine::sds::SdsError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{AuditEvent, AuditLog, Category};
use crate::cache::{AnyCache, CacheStore, Kind};
use crate::config::Config;
use crate::pseudonym::Pseudonymiser;
use crate::singleflight::SingleFlight;
use crate::spine::{CachedPatient, CachedSds, PatientLookup, PatientStatus, Spine};

/// Why the flow could not produce what was asked. Texts are safe to show to clients: they
/// never contain patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the patient is not known to PDS")]
    PatientNotFound,
    #[error("the patient's record is restricted (PDS sensitive flag); it is not shared")]
    Restricted,
    #[error("the patient is recorded as deceased; GP Connect holds no current record")]
    Deceased,
    #[error("PDS gives no registered GP practice for the patient")]
    NoPractice,
    #[error("the GP practice has no GP Connect endpoint in SDS")]
    PracticeNotInSds,
    #[error("the GP practice has no record of this patient")]
    NotAtPractice,
    #[error("the patient has dissented from sharing their GP record")]
    NoConsent,
    #[error("the GP practice rejected the NHS number")]
    InvalidNhsAtPractice,
    #[error("the GP practice or Spine denied access to the record")]
    AccessDenied,
    #[error("{service} is unavailable or failed; try again later")]
    Upstream { service: &'static str, busy: bool },
    #[error("the GP record could not be converted to C-CDA")]
    Conversion,
    #[error("internal error")]
    Internal,
}

impl FlowError {
    /// Short stable code for the audit trail and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::PatientNotFound => "patient_not_found",
            FlowError::Restricted => "restricted",
            FlowError::Deceased => "deceased",
            FlowError::NoPractice => "no_practice",
            FlowError::PracticeNotInSds => "practice_not_in_sds",
            FlowError::NotAtPractice => "not_at_practice",
            FlowError::NoConsent => "no_consent",
            FlowError::InvalidNhsAtPractice => "invalid_nhs_at_practice",
            FlowError::AccessDenied => "access_denied",
            FlowError::Upstream { .. } => "upstream_error",
            FlowError::Conversion => "conversion_error",
            FlowError::Internal => "internal_error",
        }
    }
}

/// Who is asking and from where, for upstream calls and the audit trail.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ctx: RequestingContext,
    pub client_addr: Option<String>,
    pub message_id: Option<String>,
}

impl Caller {
    /// An audit event pre-filled with the caller's identity.
    pub fn event(&self, category: Category, tx: &'static str, outcome: &str) -> AuditEvent {
        let mut e = AuditEvent::new(category, tx, outcome);
        e.user_id = Some(self.ctx.user_id.clone());
        e.user_role.clone_from(&self.ctx.role);
        e.organisation = Some(format!(
            "{} ({})",
            self.ctx.organisation_name, self.ctx.organisation_ods
        ));
        e.purpose_of_use.clone_from(&self.ctx.purpose_of_use);
        e.message_id.clone_from(&self.message_id);
        e.client_addr.clone_from(&self.client_addr);
        e
    }
}

/// What a demographic search found.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchResult {
    Unique {
        patient: CachedPatient,
        /// PDS's match score (1.0 = exact), when it gave one.
        score: Option<f64>,
    },
    NoMatch,
    /// More than one candidate: the query needs more demographics.
    Several,
}

/// XDS metadata of a cached document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMeta {
    /// XDS uniqueId: the document UUID as an OID under `2.25`.
    pub unique_id: String,
    /// `urn:uuid:…`
    pub entry_uuid: String,
    pub nhs_number: String,
    pub title: String,
    pub creation_time: DateTime<Utc>,
    pub service_start: Option<DateTime<Utc>>,
    pub service_stop: Option<DateTime<Utc>>,
    pub custodian_name: Option<String>,
    pub size: u64,
    pub gp_trace_id: Option<String>,
}

/// A cached document: its metadata and the XML.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub meta: DocMeta,
    pub xml: Bytes,
}

impl StoredDocument {
    /// `[u32 BE meta length][meta JSON][XML]`: the XML is sliced out without copying.
    fn encode(&self) -> Bytes {
        let meta = serde_json::to_vec(&self.meta).unwrap_or_default();
        let mut b = BytesMut::with_capacity(4 + meta.len() + self.xml.len());
        b.put_u32(u32::try_from(meta.len()).unwrap_or(u32::MAX));
        b.put_slice(&meta);
        b.put_slice(&self.xml);
        b.freeze()
    }

    fn decode(b: Bytes) -> Option<Self> {
        let len = usize::try_from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)).ok()?;
        let meta: DocMeta = serde_json::from_slice(b.get(4..4 + len)?).ok()?;
        let xml = b.slice(4 + len..);
        Some(Self { meta, xml })
    }
}

type FetchResult = Result<DocMeta, FlowError>;

/// The flow's dependencies.
pub struct Flow {
    pub cfg: Arc<Config>,
    pub cache: AnyCache,
    pub audit: AuditLog,
    pub pseudo: Pseudonymiser,
    pub spine: Arc<Spine>,
    identity: GatewayIdentity,
    flights: SingleFlight<String, FetchResult>,
    /// Base64 text of recently retrieved documents, for inline ITI-39 answers: encoding a
    /// megabyte document costs more than everything else in serving it, and EHRs retrieve
    /// the same document repeatedly. Keyed by uniqueId (never reused for other content),
    /// bounded to a quarter of `cache.max_bytes`, per process, whatever the cache backend.
    inline_base64: moka::future::Cache<String, Bytes>,
}

fn elapsed_ms(t: Instant) -> i64 {
    i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl Flow {
    pub fn new(
        cfg: Arc<Config>,
        cache: AnyCache,
        audit: AuditLog,
        pseudo: Pseudonymiser,
        spine: Arc<Spine>,
    ) -> Self {
        let gw = &cfg.gateway;
        let identity = GatewayIdentity {
            id_root: gw.author_id_root.clone(),
            id_extension: Some(gw.device_name.clone()),
            software_name: concat!("Xhuma ", env!("CARGO_PKG_VERSION")).into(),
            model_name: gw.device_name.clone(),
            organization_name: gw.organization_name.clone(),
            organization_oid: gw.organization_oid.clone(),
        };
        Self {
            cache,
            audit,
            pseudo,
            spine,
            inline_base64: moka::future::Cache::builder()
                .max_capacity((cfg.cache.max_bytes / 4).max(1))
                .weigher(|k: &String, v: &Bytes| {
                    u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(cfg.cache.document_ttl())
                .build(),
            identity,
            flights: SingleFlight::new(),
            cfg,
        }
    }

    /// The base64 text of `doc`, encoded once per document while it is retrieved.
    pub async fn inline_base64(&self, doc: &StoredDocument) -> Bytes {
        let xml = doc.xml.clone();
        self.inline_base64
            .get_with(doc.meta.unique_id.clone(), async move {
                use base64::Engine;
                crate::cpu::heavy(xml.len(), || {
                    Bytes::from(base64::engine::general_purpose::STANDARD.encode(&xml))
                })
                .await
            })
            .await
    }

    pub fn pseudonym(&self, nhs: &NhsNumber) -> String {
        self.pseudo.pseudonym(nhs.as_str())
    }

    /// PDS demographics, from the cache when fresh.
    pub async fn lookup_patient(
        &self,
        nhs: &NhsNumber,
        caller: &Caller,
    ) -> Result<PatientLookup, FlowError> {
        let key = self.pseudonym(nhs);
        if let Ok(Some(b)) = self.cache.get(Kind::Pds, &key).await
            && let Ok(p) = serde_json::from_slice::<CachedPatient>(&b)
        {
            return Ok(PatientLookup::Known(p));
        }
        let started = Instant::now();
        let r = self.spine.pds.read_patient(nhs, &caller.ctx).await;
        let mut ev = caller.event(
            Category::Upstream,
            "pds",
            match &r {
                Ok(_) => "success",
                Err(_) => "error",
            },
        );
        ev.patient_pseudonym = Some(key.clone());
        ev.duration_ms = Some(elapsed_ms(started));
        let result = match r {
            Ok(lookup) => {
                let mapped = crate::spine::from_pds(&lookup);
                if let PatientLookup::Known(p) = &mapped {
                    if let Ok(json) = serde_json::to_vec(p) {
                        let _ = self
                            .cache
                            .put(Kind::Pds, &key, json.into(), self.cfg.cache.pds_ttl())
                            .await;
                    }
                } else {
                    ev.outcome = "not_found".into();
                }
                Ok(mapped)
            }
            Err(e) => {
                ev.error_code = Some(pds_code(&e).into());
                tracing::warn!(error = %e, "PDS lookup failed");
                Err(FlowError::Upstream {
                    service: "PDS",
                    busy: matches!(e, PdsError::TooManyRequests),
                })
            }
        };
        self.audit.record(ev).await;
        result
    }

    /// A non-fuzzy PDS demographic search. A unique patient is cached like a read, so the
    /// ITI-38 that follows does not ask PDS again.
    pub async fn search_patient(
        &self,
        query: &SearchQuery,
        caller: &Caller,
    ) -> Result<SearchResult, FlowError> {
        let started = Instant::now();
        let r = self.spine.pds.search(query, &caller.ctx).await;
        let mut ev = caller.event(Category::Upstream, "pds_search", "success");
        ev.duration_ms = Some(elapsed_ms(started));
        let result = match r {
            Ok(SearchOutcome::Matches(mut m)) if m.len() == 1 => {
                let found = m.remove(0);
                let p = CachedPatient::from_search(&found.patient);
                let key = self.pseudonym(&found.patient.nhs_number);
                if let Ok(json) = serde_json::to_vec(&p) {
                    let _ = self
                        .cache
                        .put(Kind::Pds, &key, json.into(), self.cfg.cache.pds_ttl())
                        .await;
                }
                ev.patient_pseudonym = Some(key);
                Ok(SearchResult::Unique {
                    patient: p,
                    score: found.score,
                })
            }
            Ok(SearchOutcome::Matches(_) | SearchOutcome::TooManyMatches) => {
                ev.outcome = "multiple_matches".into();
                Ok(SearchResult::Several)
            }
            Ok(SearchOutcome::NoMatch) => {
                ev.outcome = "not_found".into();
                Ok(SearchResult::NoMatch)
            }
            Err(e) => {
                ev.outcome = "error".into();
                ev.error_code = Some(pds_code(&e).into());
                tracing::warn!(error = %e, "PDS search failed");
                Err(FlowError::Upstream {
                    service: "PDS",
                    busy: matches!(e, PdsError::TooManyRequests),
                })
            }
        };
        self.audit.record(ev).await;
        result
    }

    async fn lookup_practice(&self, ods: &str, caller: &Caller) -> Result<CachedSds, FlowError> {
        if let Ok(Some(b)) = self.cache.get(Kind::Sds, ods).await
            && let Ok(r) = serde_json::from_slice::<CachedSds>(&b)
        {
            return Ok(r);
        }
        let started = Instant::now();
        let r = self.spine.sds.lookup_gp_connect(ods).await;
        let mut ev = caller.event(Category::Upstream, "sds", "success");
        ev.duration_ms = Some(elapsed_ms(started));
        let result = match r {
            Ok(rec) => {
                let cached = CachedSds::from(&rec);
                if let Ok(json) = serde_json::to_vec(&cached) {
                    let _ = self
                        .cache
                        .put(Kind::Sds, ods, json.into(), self.cfg.cache.sds_ttl())
                        .await;
                }
                Ok(cached)
            }
            Err(SdsError::NotFound { .. }) => {
                ev.outcome = "not_found".into();
                Err(FlowError::PracticeNotInSds)
            }
            Err(e) => {
                ev.outcome = "error".into();
                ev.error_code = Some(sds_code(&e).into());
                tracing::warn!(error = %e, "SDS lookup failed");
                Err(FlowError::Upstream {
                    service: "SDS",
                    busy: false,
                })
            }
        };
        self.audit.record(ev).await;
        result
    }

    /// The patient's current converted document: from the cache, or fetched from GP Connect
    /// and converted (one fetch per patient at a time, whoever asks).
    pub async fn document_for(
        self: &Arc<Self>,
        nhs: &NhsNumber,
        caller: &Caller,
    ) -> Result<DocMeta, FlowError> {
        let patient = match self.lookup_patient(nhs, caller).await? {
            PatientLookup::NotFound => return Err(FlowError::PatientNotFound),
            PatientLookup::Known(p) => p,
        };
        match patient.status {
            PatientStatus::Restricted => return Err(FlowError::Restricted),
            PatientStatus::Deceased => return Err(FlowError::Deceased),
            PatientStatus::Found => {}
        }
        let current = patient.nhs().ok_or(FlowError::Internal)?;
        let key = self.pseudonym(&current);
        if let Some(meta) = self.cached_patient_document(&key).await {
            return Ok(meta);
        }
        let this = self.clone();
        let caller = caller.clone();
        let flight_key = key.clone();
        let (result, _leader) = self
            .flights
            .run(flight_key, move || async move {
                this.fetch_and_convert(&current, &patient, &key, &caller)
                    .await
            })
            .await
            .map_err(|_| FlowError::Internal)?;
        result
    }

    async fn cached_patient_document(&self, key: &str) -> Option<DocMeta> {
        let id = self.cache.get(Kind::PatientDocument, key).await.ok()??;
        let id = std::str::from_utf8(&id).ok()?;
        self.stored_document(id).await.map(|d| d.meta)
    }

    /// A cached document by XDS uniqueId.
    pub async fn stored_document(&self, unique_id: &str) -> Option<StoredDocument> {
        let b = self.cache.get(Kind::Document, unique_id).await.ok()??;
        StoredDocument::decode(b)
    }

    /// A cached document by the entryUUID of the DocumentEntry we returned for it.
    pub async fn stored_document_by_entry(&self, entry_uuid: &str) -> Option<StoredDocument> {
        let id = self.cache.get(Kind::EntryUuid, entry_uuid).await.ok()??;
        let doc = self.stored_document(std::str::from_utf8(&id).ok()?).await?;
        // A reused UUID must not map to another document.
        (doc.meta.entry_uuid == entry_uuid).then_some(doc)
    }

    async fn fetch_and_convert(
        &self,
        nhs: &NhsNumber,
        patient: &CachedPatient,
        key: &str,
        caller: &Caller,
    ) -> FetchResult {
        let ods = patient
            .gp_ods_code
            .as_deref()
            .ok_or(FlowError::NoPractice)?;
        let practice = self.lookup_practice(ods, caller).await?;
        let started = Instant::now();
        let r = self
            .spine
            .gpc
            .get_structured_record(nhs, &(&practice).into(), &caller.ctx)
            .await;
        let mut ev = caller.event(Category::Upstream, "gpconnect", "success");
        ev.patient_pseudonym = Some(key.to_owned());
        ev.duration_ms = Some(elapsed_ms(started));
        let record = match r {
            Ok(rec) => {
                ev.trace_id = Some(rec.trace_id.to_string());
                self.audit.record(ev).await;
                rec
            }
            Err(e) => {
                let (err, code) = map_gpc(&e);
                ev.outcome = "error".into();
                ev.error_code = Some(code.into());
                self.audit.record(ev).await;
                tracing::warn!(error = %e, "GP Connect request failed");
                return Err(err);
            }
        };

        let document_id = Uuid::new_v4();
        let opts = ConvertOptions {
            document_id,
            effective_time: Utc::now().fixed_offset(),
            gateway: self.identity.clone(),
        };
        let bundle = record.bundle.clone();
        let started = Instant::now();
        let converted = tokio::task::spawn_blocking(move || ccda_convert::convert(&bundle, &opts))
            .await
            .map_err(|_| FlowError::Internal)?;
        metrics::histogram!("xhuma_conversion_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        let converted = match converted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "conversion failed");
                metrics::counter!("xhuma_conversion_errors_total").increment(1);
                return Err(FlowError::Conversion);
            }
        };
        let size = converted.xml.len() as u64;
        metrics::histogram!("xhuma_document_size_bytes").record(size as f64);
        let s = &converted.summary;
        let meta = DocMeta {
            unique_id: format!("2.25.{}", document_id.as_u128()),
            entry_uuid: format!("urn:uuid:{}", Uuid::new_v4()),
            nhs_number: nhs.as_str().to_owned(),
            title: s.title.clone(),
            creation_time: s.creation_time.with_timezone(&Utc),
            service_start: s.service_start.as_deref().and_then(parse_hl7_ts),
            service_stop: s.service_stop.as_deref().and_then(parse_hl7_ts),
            custodian_name: s.custodian_name.clone(),
            size,
            gp_trace_id: Some(record.trace_id.to_string()),
        };
        let stored = StoredDocument {
            meta: meta.clone(),
            xml: Bytes::from(converted.xml),
        };
        let ttl = self.cfg.cache.document_ttl();
        let _ = self
            .cache
            .put(Kind::Document, &meta.unique_id, stored.encode(), ttl)
            .await;
        let _ = self
            .cache
            .put(
                Kind::PatientDocument,
                key,
                Bytes::from(meta.unique_id.clone()),
                ttl,
            )
            .await;
        let _ = self
            .cache
            .put(
                Kind::EntryUuid,
                &meta.entry_uuid,
                Bytes::from(meta.unique_id.clone()),
                ttl,
            )
            .await;
        Ok(meta)
    }
}

/// HL7 TS literal (`YYYY`, `YYYYMMDD`, `YYYYMMDDHHMMSS[+ZZZZ]`) to a UTC instant.
fn parse_hl7_ts(ts: &str) -> Option<DateTime<Utc>> {
    let digits: String = ts.chars().take_while(char::is_ascii_digit).collect();
    let padded = match digits.len() {
        4 => format!("{digits}0101000000"),
        6 => format!("{digits}01000000"),
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        n if n >= 14 => digits[..14].to_owned(),
        _ => return None,
    };
    NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S")
        .ok()
        .map(|n| n.and_utc())
}

fn pds_code(e: &PdsError) -> &'static str {
    match e {
        PdsError::Auth(_) => "auth",
        PdsError::Transport(_) => "transport",
        PdsError::InvalidNhsNumber => "invalid_nhs_number",
        PdsError::AccessDenied { .. } => "access_denied",
        PdsError::TooManyRequests => "too_many_requests",
        PdsError::BadRequest { .. } => "bad_request",
        _ => "upstream",
    }
}

fn sds_code(e: &SdsError) -> &'static str {
    match e {
        SdsError::Transport(_) => "transport",
        SdsError::NotFound { .. } => "not_found",
        SdsError::Unauthorised { .. } => "unauthorised",
        SdsError::BadRequest { .. } => "bad_request",
        _ => "upstream",
    }
}

fn map_gpc(e: &GpConnectError) -> (FlowError, &'static str) {
    let upstream = |busy| FlowError::Upstream {
        service: "GP Connect",
        busy,
    };
    match e {
        GpConnectError::PatientNotFound => (FlowError::NotAtPractice, "PATIENT_NOT_FOUND"),
        GpConnectError::NoPatientConsent => (FlowError::NoConsent, "NO_PATIENT_CONSENT"),
        GpConnectError::InvalidNhsNumber => (FlowError::InvalidNhsAtPractice, "INVALID_NHS_NUMBER"),
        GpConnectError::AccessDenied { .. } => (FlowError::AccessDenied, "ACCESS_DENIED"),
        GpConnectError::Timeout => (upstream(true), "TIMEOUT"),
        GpConnectError::CircuitOpen => (upstream(true), "CIRCUIT_OPEN"),
        GpConnectError::Network(_) => (upstream(false), "NETWORK"),
        GpConnectError::InvalidResponse(_) => (upstream(false), "INVALID_RESPONSE"),
        GpConnectError::NotImplemented => (upstream(false), "NOT_IMPLEMENTED"),
        GpConnectError::InvalidIdentifierSystem => (upstream(false), "INVALID_IDENTIFIER_SYSTEM"),
        GpConnectError::InvalidParameter { .. } => (upstream(false), "INVALID_PARAMETER"),
        GpConnectError::BadRequest { .. } => (upstream(false), "BAD_REQUEST"),
        GpConnectError::Upstream { .. } => (upstream(false), "UPSTREAM"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hl7_ts_parses_every_precision() {
        assert_eq!(
            parse_hl7_ts("20240102").unwrap().to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        assert_eq!(
            parse_hl7_ts("20240102101112+0000").unwrap().to_rfc3339(),
            "2024-01-02T10:11:12+00:00"
        );
        assert!(parse_hl7_ts("2024").is_some());
        assert!(parse_hl7_ts("x").is_none());
    }

    #[test]
    fn stored_document_round_trips() {
        let d = StoredDocument {
            meta: DocMeta {
                unique_id: "2.25.1".into(),
                entry_uuid: "urn:uuid:x".into(),
                nhs_number: "9690937278".into(),
                title: "t".into(),
                creation_time: Utc::now(),
                service_start: None,
                service_stop: None,
                custodian_name: None,
                size: 6,
                gp_trace_id: None,
            },
            xml: Bytes::from_static(b"<doc/>"),
        };
        let back = StoredDocument::decode(d.encode()).unwrap();
        assert_eq!(back.meta, d.meta);
        assert_eq!(back.xml, d.xml);
        assert!(StoredDocument::decode(Bytes::from_static(b"\0\0\0\x09{}")).is_none());
    }
}
