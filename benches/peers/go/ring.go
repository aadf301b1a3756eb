package main

import (
	"sync"
	"time"
)

// ring N M: N goroutines in a ring, one unbuffered channel per node; a token goes M times
// around (N*M hops). The token is the number of hops left: a node receiving H > 1 sends
// H-1 to its successor, the node receiving 1 notifies main. Only the token passing is
// timed. Keys: n m seconds hops_per_s ns_per_hop cpu_s.
func runRing(a []int64) {
	n, m := a[0], a[1]
	if n < 2 || m < 1 {
		// One node would send to its own unbuffered channel and block forever.
		fail("ring: N must be at least 2 and M at least 1")
	}
	warmUp()
	chans := make([]chan int64, n)
	for i := range chans {
		chans[i] = make(chan int64)
	}
	done := make(chan int64, 1)
	var ready sync.WaitGroup
	ready.Add(int(n))
	for i := int64(0); i < n; i++ {
		go ringNode(i, chans[i], chans[(i+1)%n], done, &ready)
	}
	ready.Wait()
	hops := n * m
	c0 := cpuTicks()
	t0 := time.Now()
	chans[0] <- hops
	notifier := <-done
	t1 := time.Now()
	c1 := cpuTicks()
	// Hop k lands on node (k-1) mod N, so hop N*M (token 1) lands on the last node.
	if notifier != n-1 {
		fail("ring: token 1 reached node %d, expected %d", notifier, n-1)
	}
	secs := t1.Sub(t0).Seconds()
	newResult("ring").int("n", n).int("m", m).float("seconds", secs).
		int("hops_per_s", rate(hops, secs)).float("ns_per_hop", secs*1e9/float64(hops)).
		float("cpu_s", cpuS(c0, c1)).print()
}

func ringNode(id int64, in <-chan int64, next chan<- int64, done chan<- int64, ready *sync.WaitGroup) {
	ready.Done()
	for h := range in {
		if h == 1 {
			done <- id
		} else {
			next <- h - 1
		}
	}
}
