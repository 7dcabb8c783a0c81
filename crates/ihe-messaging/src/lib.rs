//! IHE ITI-55/47/38/39 SOAP 1.2 message parsing and building. Pure: no network I/O.
