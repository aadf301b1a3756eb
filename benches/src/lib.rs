//! Support code for Hive's stress suite.
