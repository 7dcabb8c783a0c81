//! Test support: validates generated XML against ../shared schemas and the C-CDA Schematron.
