package main

import (
	"runtime"
	"sync"
	"time"
)

// spawn N: main issues N `go nop()`; the clock runs from the first spawn until
// runtime.NumGoroutine() is back at its starting value (spawn_loop_s: issuing the N).
// Keys: n seconds spawns_per_s spawn_loop_s cpu_s.
func runSpawn(a []int64) {
	n := a[0]
	warmUp()
	base := runtime.NumGoroutine()
	c0 := cpuTicks()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go nop()
	}
	t1 := time.Now()
	waitGoroutines(base)
	t2 := time.Now()
	c1 := cpuTicks()
	secs := t2.Sub(t0).Seconds()
	newResult("spawn").int("n", n).float("seconds", secs).int("spawns_per_s", rate(n, secs)).
		float("spawn_loop_s", t1.Sub(t0).Seconds()).float("cpu_s", cpuS(c0, c1)).print()
}

func nop() {}

// spawn_live N (one round): N goroutines each call WaitGroup.Done() and then block on
// their own unbuffered channel (kept in a slice); spawning is done at Wait(). RSS is read
// before and while they live. "Kill" closes each channel, timed until NumGoroutine is
// back at baseline. Keys: n spawns_per_s rss_before_kb rss_live_kb rss_after_kill_kb
// rss_per_proc_b kills_per_s.
func runSpawnLive(a []int64) {
	n := a[0]
	if n < 1 {
		fail("spawn_live: N must be positive")
	}
	warmUp()
	base := runtime.NumGoroutine()
	rssBefore := rssKB()
	var wg sync.WaitGroup
	wg.Add(int(n))
	t0 := time.Now()
	// Like the Erlang peer's pid list, the slice is built inside the timed part and
	// counts in the RSS delta.
	chans := make([]chan struct{}, n)
	for i := range chans {
		ch := make(chan struct{})
		chans[i] = ch
		go func() {
			wg.Done()
			<-ch
		}()
	}
	wg.Wait()
	t1 := time.Now()
	rssLive := rssKB()
	if live := int64(runtime.NumGoroutine() - base); live != n {
		fail("spawn_live: %d goroutines alive, expected %d", live, n)
	}
	t2 := time.Now()
	for _, ch := range chans {
		close(ch)
	}
	waitGoroutines(base)
	t3 := time.Now()
	rssAfter := rssKB()
	newResult("spawn_live").int("n", n).
		int("spawns_per_s", rate(n, t1.Sub(t0).Seconds())).
		int("rss_before_kb", rssBefore).int("rss_live_kb", rssLive).
		int("rss_after_kill_kb", rssAfter).
		float("rss_per_proc_b", float64(rssLive-rssBefore)*1024/float64(n)).
		int("kills_per_s", rate(n, t3.Sub(t2).Seconds())).print()
}
