//! Unit tests of the ETF codec on hostile input.
