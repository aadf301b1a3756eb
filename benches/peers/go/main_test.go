package main

import "testing"

func TestFmtFloat(t *testing.T) {
	cases := map[float64]string{
		0:         "0",
		2.5:       "2.5",
		2.0:       "2.0",
		0.012345:  "0.01235",
		271.26:    "271.3",
		999.96:    "1000.0",
		1049.4:    "1049",
		3687000.4: "3687000",
		-0.5:      "-0.5",
	}
	for v, want := range cases {
		if got := fmtFloat(v); got != want {
			t.Errorf("fmtFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	if v, err := parseArgs([]string{"10", "0"}, 2); err != nil || v[0] != 10 || v[1] != 0 {
		t.Errorf("parseArgs: %v %v", v, err)
	}
	for _, bad := range [][]string{{"1"}, {"1", "x"}, {"1", "-2"}, {"1", "2", "3"}} {
		if _, err := parseArgs(bad, 2); err == nil {
			t.Errorf("parseArgs(%v) accepted", bad)
		}
	}
}

func TestPercentiles(t *testing.T) {
	med, p99, max := percentiles([]int64{5000, 1000, 3000, 2000, 4000})
	if med != 3 || p99 != 5 || max != 5 {
		t.Errorf("percentiles = %v %v %v", med, p99, max)
	}
	if a, b, c := percentiles(nil); a != 0 || b != 0 || c != 0 {
		t.Errorf("empty percentiles")
	}
}
