// Command hive-peer-go runs the Go versions of Hive's stress workloads, the Go column
// of `make compare` (see benches/README.md and shared/bench/baselines.md).
//
//	GOMAXPROCS=<n> hive-peer-go <workload> <args...>   e.g. GOMAXPROCS=2 hive-peer-go ring 10000 1000
//	hive-peer-go list                                 the workloads it implements, one a line
//
// Each run prints exactly one line
//
//	RESULT lang=go name=<workload> schedulers=<GOMAXPROCS> key=value ...
//
// with the keys of the Hive C program and the Erlang peer, and exits 0; a failed count
// or sum check prints a message on stderr and exits 1, bad arguments exit 2. Only the
// workload is timed (time.Now, monotonic); set-up is not. cpu_s is utime+stime of the
// process from /proc/self/stat over the timed part, rss_* is VmRSS from /proc/self/status.
//
// The module has no dependencies outside the standard library.
package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A workload: its name (as in benches/src/workload.rs), its argument names and its body.
type workload struct {
	name string
	args []string
	run  func(args []int64)
}

var workloads = []workload{
	{"spawn", []string{"N"}, runSpawn},
	{"spawn_live", []string{"N"}, runSpawnLive},
	{"ring", []string{"N", "M"}, runRing},
	{"ping_pong", []string{"P", "K"}, runPingPong},
	{"fan_in", []string{"S", "K"}, runFanIn},
	{"skynet", []string{"SIZE"}, runSkynet},
	{"timer_storm", []string{"N", "R"}, runTimerStorm},
	{"echo", []string{"CONNS", "SECONDS"}, runEcho},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: GOMAXPROCS=<n> hive-peer-go <workload> <args...> | hive-peer-go list")
	for _, w := range workloads {
		fmt.Fprintf(os.Stderr, "  %s %s\n", w.name, strings.Join(w.args, " "))
	}
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	if os.Args[1] == "list" {
		for _, w := range workloads {
			fmt.Println(w.name)
		}
		return
	}
	for _, w := range workloads {
		if w.name != os.Args[1] {
			continue
		}
		args, err := parseArgs(os.Args[2:], len(w.args))
		if err != nil {
			fmt.Fprintf(os.Stderr, "hive-peer-go %s: %v\n", w.name, err)
			usage()
		}
		w.run(args)
		return
	}
	fmt.Fprintf(os.Stderr, "hive-peer-go: unknown workload %q\n", os.Args[1])
	usage()
}

// parseArgs parses exactly n non-negative integers.
func parseArgs(args []string, n int) ([]int64, error) {
	if len(args) != n {
		return nil, fmt.Errorf("expected %d integer arguments, got %d", n, len(args))
	}
	v := make([]int64, n)
	for i, a := range args {
		x, err := strconv.ParseInt(a, 10, 64)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("argument %q is not a non-negative integer", a)
		}
		v[i] = x
	}
	return v, nil
}

// fail reports a failed check on stderr and exits with status 1.
func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "hive-peer-go: "+format+"\n", a...)
	os.Exit(1)
}

// warmUp calls the probes once, so that their first-use costs are not timed.
func warmUp() {
	_ = cpuTicks()
	_ = rssKB()
	_ = time.Since(time.Now())
}

// cpuTicks is utime + stime of this process in clock ticks (fields 14 and 15 of
// /proc/self/stat; USER_HZ = 100).
func cpuTicks() int64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		fail("cannot read /proc/self/stat: %v", err)
	}
	s := string(b)
	// Field 2 (comm) is in parentheses and may hold spaces: the rest starts at field 3.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		fail("short /proc/self/stat")
	}
	u, err1 := strconv.ParseInt(fields[14-3], 10, 64)
	k, err2 := strconv.ParseInt(fields[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		fail("bad /proc/self/stat")
	}
	return u + k
}

// cpuS is the CPU seconds between two cpuTicks readings.
func cpuS(t0, t1 int64) float64 { return float64(t1-t0) / 100 }

// rssKB is VmRSS of this process in kB (/proc/self/status).
func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail("cannot read /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line[len("VmRSS:"):])
			if len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb
				}
			}
		}
	}
	fail("no VmRSS in /proc/self/status")
	return 0
}

// waitGoroutines spins, yielding, until runtime.NumGoroutine() is back at base. Used
// where that moment stops a clock (spawn, spawn_live's kill), as the Erlang peers spin on
// process_count.
func waitGoroutines(base int) {
	start := time.Now()
	for runtime.NumGoroutine() > base {
		runtime.Gosched()
		if time.Since(start) > 120*time.Second {
			fail("%d goroutines still alive, expected %d", runtime.NumGoroutine(), base)
		}
	}
}

// rate is count / seconds, rounded (0 for a zero time).
func rate(count int64, secs float64) int64 {
	if secs <= 0 {
		return 0
	}
	return int64(math.Round(float64(count) / secs))
}

// percentiles returns the median, p99 and max of durations in ns, in µs, taken as the
// other peers do: sorted L[0..K-1], L[K/2], L[K*99/100], L[K-1]; zeros when empty.
func percentiles(ns []int64) (med, p99, max float64) {
	k := len(ns)
	if k == 0 {
		return 0, 0, 0
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	us := func(i int) float64 { return float64(ns[i]) / 1e3 }
	return us(k / 2), us(k * 99 / 100), us(k - 1)
}

// fmtFloat formats v as the Erlang peers' hive_peer_util:fmt/1 and the C programs'
// result_float do: 0 -> "0"; |v| >= 1000 -> a rounded integer; otherwise
// max(0, 3 - floor(log10|v|)) decimals with trailing zeros trimmed (one kept).
func fmtFloat(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	digits := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	if digits < 0 {
		digits = 0
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		end := len(s)
		for end > dot+2 && s[end-1] == '0' {
			end--
		}
		s = s[:end]
	}
	return s
}

// result builds the one RESULT line.
type result struct{ b strings.Builder }

func newResult(name string) *result {
	r := &result{}
	fmt.Fprintf(&r.b, "RESULT lang=go name=%s schedulers=%d", name, runtime.GOMAXPROCS(0))
	return r
}

func (r *result) int(key string, v int64) *result {
	fmt.Fprintf(&r.b, " %s=%d", key, v)
	return r
}

func (r *result) float(key string, v float64) *result {
	fmt.Fprintf(&r.b, " %s=%s", key, fmtFloat(v))
	return r
}

// print writes the line to stdout.
func (r *result) print() { fmt.Println(r.b.String()) }
