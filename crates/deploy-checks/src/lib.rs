//! No code: this crate holds the tests of the repository's `deploy/` folder (see README.md).
