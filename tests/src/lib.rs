//! Helpers for the cross-crate and cluster tests.
pub mod cluster;
