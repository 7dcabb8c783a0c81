//! Clients for NHS PDS (FHIR R4), SDS (FHIR R4) and GP Connect Access Record Structured.
