//! The Xhuma gateway service.
