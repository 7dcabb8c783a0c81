//! GP Connect (FHIR STU3) → C-CDA R2.1 conversion. Pure: no I/O.
