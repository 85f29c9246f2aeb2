package measure

import (
	"errors"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if got := Quantile(d, 0.5); got != 50 {
		t.Errorf("p50 = %v, want 50", got)
	}
	if got := Quantile(d, 0.99); got != 99 {
		t.Errorf("p99 = %v, want 99", got)
	}
	if got := Quantile(nil, 0.99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
}

func TestRotate(t *testing.T) {
	seen := map[int]int{}
	for r := range 3 {
		o := Rotate(3, r)
		seen[o[0]]++
		if len(o) != 3 {
			t.Fatalf("Rotate(3, %d) = %v", r, o)
		}
	}
	if len(seen) != 3 {
		t.Errorf("over 3 rounds the first subjects were %v, want each once", seen)
	}
}

// The ratio is the median of per-round ratios, not the ratio of medians.
func TestSetRatioPerRound(t *testing.T) {
	s := NewSet("g")
	for _, r := range [][2]float64{{10, 5}, {40, 10}, {9, 3}} {
		s.Add("a", r[0])
		s.Add("base", r[1])
	}
	m := s.M("a", "ns/op", "base", Max("ratio", 2.5, "≤ 2.5"), "")
	if m.Name != "g/a" || m.Baseline != "g/base" {
		t.Fatalf("names %q, %q", m.Name, m.Baseline)
	}
	if m.Ratio != 3 || m.Value != 10 {
		t.Errorf("ratio %v, value %v; want 3 (median of 2, 4, 3) and 10", m.Ratio, m.Value)
	}
	if m.Met == nil || *m.Met {
		t.Errorf("met = %v, want false for 3 > 2.5", m.Met)
	}
	m = s.MAs("a-vs", "a", "ns/op", "base", Min("ratio", 2.5, "≥ 2.5"), "")
	if m.Name != "g/a-vs" || m.Met == nil || !*m.Met {
		t.Errorf("MAs: %q met %v", m.Name, m.Met)
	}
}

func TestSerialAndParallel(t *testing.T) {
	n := 0
	ns, err := Serial(20*time.Millisecond, func() error { n++; return nil })
	if err != nil || ns <= 0 || n == 0 {
		t.Fatalf("Serial: %v ns, %d calls, %v", ns, n, err)
	}
	boom := errors.New("boom")
	if _, err := Serial(time.Millisecond, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Serial error = %v", err)
	}
	if _, err := Parallel(10*time.Millisecond, 2, func(w, i int) error {
		if i == 5 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("Parallel error = %v", err)
	}
	lat, perSec, err := Latencies(20*time.Millisecond, 2, func(c, i int) error { time.Sleep(time.Millisecond); return nil })
	if err != nil || len(lat) == 0 || perSec <= 0 || lat[0] < time.Millisecond {
		t.Errorf("Latencies: %d latencies, %v/s, %v", len(lat), perSec, err)
	}
}
