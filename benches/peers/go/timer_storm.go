package main

import (
	"math"
	"math/rand"
	"sync/atomic"
	"time"
)

const (
	sleepK = 1000
	farMs  = 60000
	// Marks a timer whose callback has not run.
	notFired = math.MinInt64
)

// timer_storm N R (baselines.md workload 10, Go column). Storm: N time.AfterFunc timers
// with delays pre-generated uniformly in 0..1000 ms (inclusive, fixed seed); each callback
// records its lateness = run time - (time.Now() just before the set + D). The set loop is
// timed (sets_per_s); then every second timer in set order is stopped (Timer.Stop),
// timed (cancels_per_s; cancel_ok counts the ones that were live). The storm ends when
// fired + cancel_ok == N. R (the Erlang peer's receiver count) is echoed; Go needs no
// receivers, the callbacks record the lateness themselves. Sleep loop: 1000 timed
// time.Sleep(time.Millisecond). Far pass: N timers 60000..61000 ms ahead with one shared
// callback (far_sets_per_s), every second one stopped (far_cancels_per_s; each must be
// live), then the rest. Keys: n r sets_per_s cancels_per_s cancel_ok fired late_med_us
// late_p99_us late_max_us sleep1_med_us sleep1_p99_us far_sets_per_s far_cancels_per_s,
// plus early and storm_s.
func runTimerStorm(a []int64) {
	n, r := a[0], a[1]
	if n < 1 || r < 1 {
		fail("timer_storm: N and R must be positive")
	}
	warmUp()
	rng := rand.New(rand.NewSource(1))
	delays := make([]time.Duration, n)
	for i := range delays {
		delays[i] = time.Duration(rng.Intn(1001)) * time.Millisecond
	}
	lat := make([]int64, n)
	for i := range lat {
		lat[i] = notFired
	}
	timers := make([]*time.Timer, n)
	var fired, early int64

	// ---- storm: set ----
	t0 := time.Now()
	for i := range timers {
		d := delays[i]
		ideal := time.Now().Add(d)
		idx := i
		timers[i] = time.AfterFunc(d, func() {
			l := int64(time.Since(ideal))
			lat[idx] = l
			if l < 0 {
				atomic.AddInt64(&early, 1)
			}
			// After the write above: main reads lat once it has seen every count.
			atomic.AddInt64(&fired, 1)
		})
	}
	t1 := time.Now()
	// ---- storm: cancel every second timer ----
	var cancelOk int64
	for i := 0; i < len(timers); i += 2 {
		if timers[i].Stop() {
			cancelOk++
		}
	}
	t2 := time.Now()
	for atomic.LoadInt64(&fired)+cancelOk < n {
		if time.Since(t2) > 30*time.Second {
			fail("timer_storm: only %d fired + %d cancelled of %d", atomic.LoadInt64(&fired), cancelOk, n)
		}
		time.Sleep(time.Millisecond)
	}
	t3 := time.Now()
	count := atomic.LoadInt64(&fired)
	if count+cancelOk != n {
		fail("timer_storm: %d fired + %d cancelled, expected %d", count, cancelOk, n)
	}
	lats := make([]int64, 0, count)
	for _, l := range lat {
		if l != notFired {
			lats = append(lats, l)
		}
	}
	if int64(len(lats)) != count {
		fail("timer_storm: %d latencies recorded, %d fired", len(lats), count)
	}
	lMed, lP99, lMax := percentiles(lats)

	// ---- sleep loop ----
	sleeps := make([]int64, sleepK)
	for i := range sleeps {
		s0 := time.Now()
		time.Sleep(time.Millisecond)
		sleeps[i] = int64(time.Since(s0))
	}
	sMed, sP99, _ := percentiles(sleeps)

	// ---- far pass ----
	farDelays := make([]time.Duration, n)
	for i := range farDelays {
		farDelays[i] = time.Duration(farMs+rng.Intn(1001)) * time.Millisecond
	}
	far := make([]*time.Timer, n)
	f0 := time.Now()
	for i := range far {
		far[i] = time.AfterFunc(farDelays[i], farSink)
	}
	f1 := time.Now()
	for i := 0; i < len(far); i += 2 {
		if !far[i].Stop() {
			fail("timer_storm: a far timer was not live")
		}
	}
	f2 := time.Now()
	for i := 1; i < len(far); i += 2 {
		far[i].Stop()
	}

	half := (n + 1) / 2
	newResult("timer_storm").int("n", n).int("r", r).
		int("sets_per_s", rate(n, t1.Sub(t0).Seconds())).
		int("cancels_per_s", rate(half, t2.Sub(t1).Seconds())).
		int("cancel_ok", cancelOk).int("fired", count).
		float("late_med_us", lMed).float("late_p99_us", lP99).float("late_max_us", lMax).
		float("sleep1_med_us", sMed).float("sleep1_p99_us", sP99).
		int("far_sets_per_s", rate(n, f1.Sub(f0).Seconds())).
		int("far_cancels_per_s", rate(half, f2.Sub(f1).Seconds())).
		int("early", atomic.LoadInt64(&early)).
		float("storm_s", t3.Sub(t0).Seconds()).print()
}

// farSink is the far pass's callback; no far timer may fire (they are all stopped
// about 60 s before they are due).
func farSink() {}
