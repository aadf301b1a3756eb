//! Unit tests of the ETF codec: every tag, boundaries, round trips.
