package main

import (
	"sync"
	"time"
)

// ping_pong P K: P pairs, two unbuffered channels per pair, each pair doing K round trips
// concurrently (2*P*K messages). The clock runs from the go broadcast (closing one
// channel) until all P done messages have arrived. Keys: pairs k seconds msgs_per_s cpu_s.
func runPingPong(a []int64) {
	p, k := a[0], a[1]
	warmUp()
	start := make(chan struct{})
	done := make(chan int64, p)
	var ready sync.WaitGroup
	ready.Add(int(2 * p))
	for i := int64(0); i < p; i++ {
		ping := make(chan struct{})
		pong := make(chan struct{})
		go ponger(ping, pong, &ready)
		go pinger(ping, pong, k, start, done, &ready)
	}
	ready.Wait()
	c0 := cpuTicks()
	t0 := time.Now()
	close(start)
	var trips int64
	for i := int64(0); i < p; i++ {
		trips += <-done
	}
	t1 := time.Now()
	c1 := cpuTicks()
	if trips != p*k {
		fail("ping_pong: %d round trips, expected %d", trips, p*k)
	}
	secs := t1.Sub(t0).Seconds()
	newResult("ping_pong").int("pairs", p).int("k", k).float("seconds", secs).
		int("msgs_per_s", rate(2*p*k, secs)).float("cpu_s", cpuS(c0, c1)).print()
}

func pinger(ping chan<- struct{}, pong <-chan struct{}, k int64, start <-chan struct{}, done chan<- int64, ready *sync.WaitGroup) {
	ready.Done()
	<-start
	for i := int64(0); i < k; i++ {
		ping <- struct{}{}
		<-pong
	}
	done <- k
}

func ponger(ping <-chan struct{}, pong chan<- struct{}, ready *sync.WaitGroup) {
	ready.Done()
	for range ping {
		pong <- struct{}{}
	}
}
