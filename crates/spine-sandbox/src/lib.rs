//! A loopback HTTP server that plays PDS, SDS, OAuth and GP Connect from fixtures.
