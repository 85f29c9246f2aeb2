package promtext

import (
	"bufio"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Sample is one parsed sample line.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Exposition is a parsed text exposition: each family's type and samples.
type Exposition struct {
	Types   map[string]string
	Samples map[string][]Sample
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
)

// Parse reads the text format strictly, for tests: a TYPE line before a
// family's samples and only once, the samples of a family together, valid
// names, escapes and numbers, counters ending in _total, and for
// histograms cumulative buckets ending in +Inf equal to the count.
func Parse(text string) (*Exposition, error) {
	e := &Exposition{Types: map[string]string{}, Samples: map[string][]Sample{}}
	done := map[string]bool{}
	current := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", n, line, fmt.Sprintf(format, args...))
		}
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(rest, " ")
			if metricNameRE.FindString(name) != name {
				return nil, fail("bad metric name")
			}
			switch kind {
			case "HELP":
			case "TYPE":
				if _, dup := e.Types[name]; dup {
					return nil, fail("second TYPE for %s", name)
				}
				if arg != "counter" && arg != "gauge" && arg != "histogram" && arg != "summary" && arg != "untyped" {
					return nil, fail("unknown type")
				}
				e.Types[name] = arg
				if current != "" {
					done[current] = true
				}
				current = name
			default:
				return nil, fail("unknown comment")
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fail("%v", err)
		}
		fam := s.Name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(s.Name, suffix); ok && e.Types[base] == "histogram" {
				fam = base
			}
		}
		if fam != current || done[fam] {
			return nil, fail("sample of %s outside its family (current %s)", fam, current)
		}
		e.Samples[fam] = append(e.Samples[fam], s)
	}
	for fam, typ := range e.Types {
		if typ == "histogram" {
			if err := checkHistogram(fam, e.Samples[fam]); err != nil {
				return nil, err
			}
		}
		if typ == "counter" && !strings.HasSuffix(fam, "_total") {
			return nil, fmt.Errorf("counter %s does not end in _total", fam)
		}
	}
	return e, sc.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	s.Name = metricNameRE.FindString(line)
	if s.Name == "" {
		return s, fmt.Errorf("no metric name")
	}
	rest := line[len(s.Name):]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			k := labelNameRE.FindString(rest)
			if k == "" || !strings.HasPrefix(rest[len(k):], `="`) {
				return s, fmt.Errorf("bad label at %q", rest)
			}
			rest = rest[len(k)+2:]
			var v strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\n' {
					return s, fmt.Errorf("raw newline in a label value")
				}
				if c == '\\' {
					if rest == "" {
						return s, fmt.Errorf("dangling escape")
					}
					switch rest[0] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape \\%c", rest[0])
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			if _, dup := s.Labels[k]; dup {
				return s, fmt.Errorf("label %s twice", k)
			}
			s.Labels[k] = v.String()
			rest = strings.TrimPrefix(rest, ",")
		}
		rest = rest[1:]
	}
	rest, ok := strings.CutPrefix(rest, " ")
	if !ok {
		return s, fmt.Errorf("no space before the value")
	}
	var err error
	if s.Value, err = strconv.ParseFloat(rest, 64); err != nil {
		return s, fmt.Errorf("bad value: %v", err)
	}
	return s, nil
}

// checkHistogram checks each series of a histogram: cumulative buckets,
// the last le="+Inf" and equal to _count.
func checkHistogram(fam string, samples []Sample) error {
	type series struct {
		last, inf, count float64
		hasInf, hasCount bool
	}
	all := map[string]*series{}
	key := func(s Sample) string {
		var parts []string
		for k, v := range s.Labels {
			if k != "le" {
				parts = append(parts, k+"="+v)
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	for _, s := range samples {
		k := key(s)
		if all[k] == nil {
			all[k] = &series{}
		}
		sr := all[k]
		switch s.Name {
		case fam + "_bucket":
			le, ok := s.Labels["le"]
			if !ok {
				return fmt.Errorf("%s bucket without le", fam)
			}
			if s.Value < sr.last {
				return fmt.Errorf("%s buckets not cumulative", fam)
			}
			sr.last = s.Value
			if le == "+Inf" {
				sr.inf, sr.hasInf = s.Value, true
			}
		case fam + "_count":
			sr.count, sr.hasCount = s.Value, true
		}
	}
	for k, sr := range all {
		if !sr.hasInf || !sr.hasCount || sr.inf != sr.count {
			return fmt.Errorf("%s{%s}: +Inf bucket %v, count %v", fam, k, sr.inf, sr.count)
		}
	}
	return nil
}

// Value returns the value of the first sample named name whose labels
// include labels.
func (e *Exposition) Value(name string, labels map[string]string) (float64, bool) {
	for _, ss := range e.Samples {
		for _, s := range ss {
			if s.Name != name {
				continue
			}
			match := true
			for k, v := range labels {
				if s.Labels[k] != v {
					match = false
				}
			}
			if match {
				return s.Value, true
			}
		}
	}
	return 0, false
}
