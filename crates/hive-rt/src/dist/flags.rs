//! Distribution flags.
