//! The External Term Format codec.
