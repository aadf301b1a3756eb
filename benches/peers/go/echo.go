package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// echo CONNS SECONDS: the echo workload of benches/stress/echo.c with Go's net package: a
// listener on 127.0.0.1:0, one goroutine per connection (io.ReadFull 64 bytes, Write
// them back, until end of stream), driven by the same load generator as the Hive and
// Erlang servers (the Hive program in client mode, found in $HIVE_STRESS_BIN_DIR, else
// target/stress/bin), with the same protocol on its stdin and stdout (READY, go, DONE,
// IDLE, close, ECHO ...), the same keys and the same checks. During the window a goroutine
// waits 1 ms over and over (a timer in a select, as a receive-after-1) and a ping-pong pair
// does a round trip a millisecond, for the fairness keys. CPU is utime+stime from /proc/self/stat (10 ms ticks).
func runEcho(a []int64) {
	conns, secs := a[0], a[1]
	if conns < 1 || secs < 1 {
		fail("echo: CONNS and SECONDS must be at least 1")
	}
	dir := os.Getenv("HIVE_STRESS_BIN_DIR")
	if dir == "" {
		dir = "target/stress/bin"
	}
	bin, _ := filepath.Abs(filepath.Join(dir, "echo"))
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		fail("echo: no load generator at %s (set HIVE_STRESS_BIN_DIR)", bin)
	}
	warmUp()
	rss0 := rssKB()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("echo: listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	var served int64
	var handlers sync.WaitGroup
	go func() {
		for i := int64(0); i < conns; i++ {
			c, err := l.Accept()
			if err != nil {
				fail("echo: accept: %v", err)
			}
			c.(*net.TCPConn).SetNoDelay(true)
			handlers.Add(1)
			go func(c net.Conn) {
				defer handlers.Done()
				defer c.Close()
				buf := make([]byte, 64)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						if err == io.EOF {
							return
						}
						fail("echo: read: %v", err)
					}
					if _, err := c.Write(buf); err != nil {
						fail("echo: write: %v", err)
					}
					atomic.AddInt64(&served, 1)
				}
			}(c)
		}
	}()
	cmd := exec.Command(bin, "client", fmt.Sprint(port), fmt.Sprint(conns), fmt.Sprint(secs))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail("echo: starting the load generator: %v", err)
	}
	lines := bufio.NewScanner(stdout)
	expect := func(want string) string {
		if !lines.Scan() {
			fail("echo: the load generator's output ended before %s", want)
		}
		t := lines.Text()
		if !strings.HasPrefix(t, want) {
			fail("echo: load generator said %q, expected %s", t, want)
		}
		return t
	}
	expect("READY")
	rssConns := rssKB()
	stop := make(chan struct{})
	ticks := make(chan []int64)
	go func() {
		var late []int64
		for {
			t0 := time.Now()
			t := time.NewTimer(time.Millisecond)
			select {
			case <-stop:
				t.Stop()
				ticks <- late
				return
			case <-t.C:
				d := time.Since(t0) - time.Millisecond
				if d < 0 {
					d = 0
				}
				late = append(late, d.Nanoseconds())
			}
		}
	}()
	// The ping-pong pair: one round trip a millisecond.
	ppStop := make(chan struct{})
	ppOut := make(chan []int64)
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	go func() {
		var rts []int64
		for {
			t := time.NewTimer(time.Millisecond)
			select {
			case <-ppStop:
				t.Stop()
				close(ping)
				ppOut <- rts
				return
			case <-t.C:
				t0 := time.Now()
				ping <- struct{}{}
				<-pong
				rts = append(rts, time.Since(t0).Nanoseconds())
			}
		}
	}()
	c0 := cpuTicks()
	io.WriteString(stdin, "go\n")
	expect("DONE")
	c1 := cpuTicks()
	close(stop)
	late := <-ticks
	close(ppStop)
	rts := <-ppOut
	if len(rts) == 0 {
		fail("echo: the ping-pong did no round trip")
	}
	_, pp99, _ := percentiles(rts)
	if len(late) == 0 {
		fail("echo: the ticker never woke")
	}
	expect("IDLE")
	i0 := cpuTicks()
	ti := time.Now()
	time.Sleep(time.Second)
	i1 := cpuTicks()
	idleS := time.Since(ti).Seconds()
	io.WriteString(stdin, "close\n")
	res := expect("ECHO")
	if err := cmd.Wait(); err != nil {
		fail("echo: load generator: %v", err)
	}
	handlers.Wait()
	l.Close()
	var windowRt, totalRt, minConnRt int64
	var windowS, p50, p99, maxUs, connectS float64
	n, _ := fmt.Sscanf(res, "ECHO window_rt=%d window_s=%f p50_us=%f p99_us=%f max_us=%f total_rt=%d min_conn_rt=%d connect_s=%f",
		&windowRt, &windowS, &p50, &p99, &maxUs, &totalRt, &minConnRt, &connectS)
	if n != 8 {
		fail("echo: cannot parse %q", res)
	}
	if minConnRt < 1 || windowRt < 1 {
		fail("echo: a connection did no round trip")
	}
	if s := atomic.LoadInt64(&served); s != totalRt {
		fail("echo: served %d round trips, the client did %d", s, totalRt)
	}
	cpu := cpuS(c0, c1)
	lm, l99, _ := percentiles(late)
	newResult("echo").int("conns", conns).int("duration_s", secs).float("window_s", windowS).
		int("round_trips", windowRt).int("rps", rate(windowRt, windowS)).
		float("p50_us", p50).float("p99_us", p99).float("max_us", maxUs).
		float("cpu_us_per_rt", cpu*1e6/float64(windowRt)).
		float("rss_per_conn_b", float64(rssConns-rss0)*1024/float64(conns)).
		float("cpu_s", cpu).int("rss_before_kb", rss0).int("rss_conns_kb", rssConns).
		int("total_rt", totalRt).float("connect_s", connectS).
		float("idle_cpu_pct", cpuS(i0, i1)*100/idleS).
		int("tick_late_p50_us", int64(lm)).int("tick_late_p99_us", int64(l99)).
		int("pp_p99_us", int64(pp99)).print()
}
