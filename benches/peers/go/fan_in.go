package main

import (
	"sync"
	"time"
)

// fan_in S K: S senders each send K integers (K down to 1) on one unbuffered channel to
// one receiver (S*K messages). The clock runs from go (closing one channel) until the
// receiver has counted S*K; the sum is checked. Main samples len() of the channel every
// 10 ms (max_qlen; always 0 when unbuffered). Then the same with a channel of capacity
// 1024, reported as buf1024_seconds, buf1024_msgs_per_s, buf1024_max_qlen.
// Keys: senders k seconds msgs_per_s max_qlen cpu_s.
func runFanIn(a []int64) {
	s, k := a[0], a[1]
	warmUp()
	secs, maxq, cpu := fanIn(s, k, 0)
	bsecs, bmaxq, _ := fanIn(s, k, 1024)
	total := s * k
	newResult("fan_in").int("senders", s).int("k", k).float("seconds", secs).
		int("msgs_per_s", rate(total, secs)).int("max_qlen", int64(maxq)).float("cpu_s", cpu).
		float("buf1024_seconds", bsecs).int("buf1024_msgs_per_s", rate(total, bsecs)).
		int("buf1024_max_qlen", int64(bmaxq)).print()
}

// fanIn runs one pass over a channel of the given capacity; returns seconds, the largest
// sampled queue length and CPU seconds.
func fanIn(s, k int64, capacity int) (float64, int, float64) {
	total := s * k
	ch := make(chan int64, capacity)
	start := make(chan struct{})
	result := make(chan int64, 1)
	var ready sync.WaitGroup
	ready.Add(int(s + 1))
	go func() {
		ready.Done()
		var sum int64
		for i := int64(0); i < total; i++ {
			sum += <-ch
		}
		result <- sum
	}()
	for i := int64(0); i < s; i++ {
		go func() {
			ready.Done()
			<-start
			for j := k; j > 0; j-- {
				ch <- j
			}
		}()
	}
	ready.Wait()
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	maxq := 0
	c0 := cpuTicks()
	t0 := time.Now()
	close(start)
	var sum int64
loop:
	for {
		select {
		case sum = <-result:
			break loop
		case <-ticker.C:
			if q := len(ch); q > maxq {
				maxq = q
			}
		}
	}
	t1 := time.Now()
	c1 := cpuTicks()
	if want := s * (k * (k + 1) / 2); sum != want {
		fail("fan_in: sum %d, expected %d", sum, want)
	}
	return t1.Sub(t0).Seconds(), maxq, cpuS(c0, c1)
}
