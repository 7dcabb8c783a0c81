//! Lenient FHIR STU3 model for GP Connect.
