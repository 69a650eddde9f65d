//! Dot-stuffing.
