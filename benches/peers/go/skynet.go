package main

import "time"

const skynetDiv = 10

// skynet SIZE: the canonical Go skynet, a 10-ary tree with SIZE leaves (SIZE a power of
// 10), one unbuffered result channel per inner node. The clock runs from spawning the
// root until its sum arrives; the sum must be SIZE*(SIZE-1)/2.
// Keys: size sum seconds procs_per_s rss_delta_kb cpu_s.
func runSkynet(a []int64) {
	size := a[0]
	procs, ok := treeProcs(size)
	if !ok {
		fail("skynet: size %d is not a power of %d", size, skynetDiv)
	}
	warmUp()
	rss0 := rssKB()
	c0 := cpuTicks()
	t0 := time.Now()
	c := make(chan int64)
	go skynet(c, 0, size)
	sum := <-c
	t1 := time.Now()
	c1 := cpuTicks()
	rss1 := rssKB()
	if want := size * (size - 1) / 2; sum != want {
		fail("skynet: sum %d, expected %d", sum, want)
	}
	secs := t1.Sub(t0).Seconds()
	newResult("skynet").int("size", size).int("sum", sum).float("seconds", secs).
		int("procs_per_s", rate(procs, secs)).int("rss_delta_kb", rss1-rss0).
		float("cpu_s", cpuS(c0, c1)).print()
}

// treeProcs counts the goroutines of the tree: SIZE + SIZE/10 + ... + 1.
func treeProcs(size int64) (int64, bool) {
	if size == 1 {
		return 1, true
	}
	if size < 1 || size%skynetDiv != 0 {
		return 0, false
	}
	p, ok := treeProcs(size / skynetDiv)
	return size + p, ok
}

func skynet(c chan<- int64, num, size int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64)
	child := size / skynetDiv
	for i := int64(0); i < skynetDiv; i++ {
		go skynet(rc, num+i*child, child)
	}
	var sum int64
	for i := 0; i < skynetDiv; i++ {
		sum += <-rc
	}
	c <- sum
}
