//! Errors of every layer, small enums a caller can match on.
