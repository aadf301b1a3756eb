module hivepeers

go 1.18
