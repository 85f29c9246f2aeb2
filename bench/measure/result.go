package measure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Schema is the version of the result format this package writes.
// Version 2 added Tree, Profile and Runs; files of version 1 still load.
const Schema = 2

// Result is the suite's result file (bench/results/latest.json).
type Result struct {
	// Schema is the version of this format.
	Schema int `json:"schema"`
	// Mode is "full" or "smoke"; smoke figures are not measurements.
	Mode    string  `json:"mode"`
	Machine Machine `json:"machine"`
	// Seconds is how long the run took.
	Seconds float64 `json:"seconds"`
	// Tree is the SDK tree the latest run measured, when git could say.
	Tree *Tree `json:"tree,omitempty"`
	// Profile says whether the latest run took profiles (-profile).
	Profile bool `json:"profile,omitempty"`
	// Runs says, group by group, which run the measurements come from:
	// after a partial run (-only) merged into an existing file, they
	// differ. Files of schema 1 have none: all is from the one run that
	// Machine describes.
	Runs         []Run         `json:"runs,omitempty"`
	Measurements []Measurement `json:"measurements"`
}

// Tree identifies the source tree measured.
type Tree struct {
	// Commit is `git rev-parse HEAD`.
	Commit string `json:"commit"`
	// Dirty says that `git status --porcelain` listed changes.
	Dirty bool `json:"dirty"`
}

// Run says where one group's measurements come from.
type Run struct {
	Group string `json:"group"`
	// Date is when the run started (RFC 3339, UTC).
	Date    string  `json:"date"`
	Go      string  `json:"go"`
	Tree    *Tree   `json:"tree,omitempty"`
	Profile bool    `json:"profile,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Describe returns a short account of where a run's figures come from:
// its date, and the commit when known ("+dirty" for a changed tree).
func (r Run) Describe() string {
	s := r.Date
	if r.Tree != nil {
		s += " at " + r.Tree.String()
	}
	if r.Profile {
		s += ", profiled"
	}
	return s
}

// String returns the commit's first 12 digits and "+dirty" for a tree
// with changes.
func (t *Tree) String() string {
	if t == nil {
		return "unknown"
	}
	c := t.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if t.Dirty {
		c += "+dirty"
	}
	return c
}

// Merge returns the result of a partial run, next, merged into prev: the
// measurements of the groups next ran (ran) replace those of the same
// groups in prev, the others are kept, and Runs records which run each
// group comes from (a group left without measurements is dropped, with
// its run). The machine, mode, tree and duration are next's.
// Groups are ordered as order lists them (groups not in it last).
func Merge(prev, next *Result, ran, order []string) *Result {
	out := *next
	out.Runs = nil
	out.Measurements = nil
	runs := map[string]Run{}
	for _, r := range prev.Runs {
		runs[r.Group] = r
	}
	for _, m := range prev.Measurements {
		if _, ok := runs[m.Group]; !ok {
			// A schema-1 file: everything comes from its one run.
			runs[m.Group] = Run{Group: m.Group, Date: prev.Machine.Date, Go: prev.Machine.Go, Tree: prev.Tree, Profile: prev.Profile, Seconds: prev.Seconds}
		}
	}
	for _, r := range next.Runs {
		runs[r.Group] = r
	}
	byGroup := map[string][]Measurement{}
	for _, m := range prev.Measurements {
		if !slices.Contains(ran, m.Group) {
			byGroup[m.Group] = append(byGroup[m.Group], m)
		}
	}
	for _, m := range next.Measurements {
		byGroup[m.Group] = append(byGroup[m.Group], m)
	}
	groups := slices.Collect(maps.Keys(runs))
	rank := func(g string) int {
		if i := slices.Index(order, g); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(groups, func(a, b string) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, g := range groups {
		if len(byGroup[g]) == 0 {
			continue
		}
		out.Runs = append(out.Runs, runs[g])
		out.Measurements = append(out.Measurements, byGroup[g]...)
	}
	return &out
}

// Machine says where the figures come from.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemoryMiB  int    `json:"memory_mib"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Date       string `json:"date"`
}

// Measurement is one figure: the median of its samples and, when it is
// compared with a baseline measured in the same rounds, the median of the
// per-round ratios value/baseline.
type Measurement struct {
	Group string `json:"group"`
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	// Value is the median of Samples.
	Value   float64   `json:"value"`
	Samples []float64 `json:"samples"`
	// Baseline names the measurement Ratio compares with.
	Baseline string `json:"baseline,omitempty"`
	// Ratio is the median over rounds of value/baseline in that round.
	Ratio        float64   `json:"ratio,omitempty"`
	RatioSamples []float64 `json:"ratio_samples,omitempty"`
	// Target is the optimisation pass's goal, if any: On ("ratio" or
	// "value") Op ("<=" or ">=") Limit.
	Target *Target `json:"target,omitempty"`
	// Met says whether this run meets Target.
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
}

// Target is a goal a measurement is held to.
type Target struct {
	On    string  `json:"on"`
	Op    string  `json:"op"`
	Limit float64 `json:"limit"`
	Text  string  `json:"text"`
}

// Judge sets m.Met from m.Target.
func (m *Measurement) Judge() {
	if m.Target == nil {
		return
	}
	v := m.Value
	if m.Target.On == "ratio" {
		v = m.Ratio
	}
	met := v <= m.Target.Limit
	if m.Target.Op == ">=" {
		met = v >= m.Target.Limit
	}
	m.Met = &met
}

// Set collects samples by name, round by round, and turns them into
// measurements with per-round ratios.
type Set struct {
	Group   string
	samples map[string][]float64
	order   []string
}

// NewSet returns an empty set for group.
func NewSet(group string) *Set { return &Set{Group: group, samples: map[string][]float64{}} }

// Add records one round's value for name.
func (s *Set) Add(name string, v float64) {
	if _, ok := s.samples[name]; !ok {
		s.order = append(s.order, name)
	}
	s.samples[name] = append(s.samples[name], v)
}

// Samples returns what was recorded for name.
func (s *Set) Samples(name string) []float64 { return s.samples[name] }

// M builds the measurement of name, compared with baseline when it is not
// "". The two must have been recorded in the same rounds.
func (s *Set) M(name, unit, baseline string, t *Target, note string) Measurement {
	return s.MAs(name, name, unit, baseline, t, note)
}

// MAs is M for the samples of name, reported as as: the same figure
// compared with another baseline.
func (s *Set) MAs(as, name, unit, baseline string, t *Target, note string) Measurement {
	xs := s.samples[name]
	m := Measurement{Group: s.Group, Name: s.Group + "/" + as, Unit: unit, Value: Median(xs), Samples: xs, Target: t, Note: note}
	if baseline != "" {
		bs := s.samples[baseline]
		var rs []float64
		for i := range min(len(xs), len(bs)) {
			if bs[i] != 0 {
				rs = append(rs, xs[i]/bs[i])
			}
		}
		m.Baseline, m.Ratio, m.RatioSamples = s.Group+"/"+baseline, Median(rs), rs
	}
	m.Judge()
	return m
}

// Max is a target "at most limit".
func Max(on string, limit float64, text string) *Target {
	return &Target{On: on, Op: "<=", Limit: limit, Text: text}
}

// Min is a target "at least limit".
func Min(on string, limit float64, text string) *Target {
	return &Target{On: on, Op: ">=", Limit: limit, Text: text}
}

// ThisTree returns the git commit of the working directory's repository
// and whether it has changes, or nil when git cannot say (no git, not a
// repository).
func ThisTree() *Tree {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return nil
	}
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err != nil {
		return nil
	}
	return &Tree{Commit: strings.TrimSpace(string(head)), Dirty: len(bytes.TrimSpace(status)) > 0}
}

// ThisMachine describes the machine the suite runs on.
func ThisMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		MemoryMiB:  memTotalMiB(),
		Go:         runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Date:       time.Now().UTC().Format(time.RFC3339),
	}
}

func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

func memTotalMiB() int {
	var kb int
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d", &kb)
	return kb / 1024
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Write writes r as indented JSON to path, creating its directory.
func (r *Result) Write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read reads a result file.
func Read(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Find returns the measurement named name, or nil.
func (r *Result) Find(name string) *Measurement {
	for i := range r.Measurements {
		if r.Measurements[i].Name == name {
			return &r.Measurements[i]
		}
	}
	return nil
}
