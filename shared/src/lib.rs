//! Pure sealing core.
