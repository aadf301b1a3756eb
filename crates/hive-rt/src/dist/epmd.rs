//! EPMD: the client, and Hive's own minimal port mapper.
