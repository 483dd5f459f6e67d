//! Helpers for the cross-crate and cluster tests.
