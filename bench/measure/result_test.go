package measure

import (
	"path/filepath"
	"reflect"
	"testing"
)

func m(group, name string, v float64) Measurement {
	return Measurement{Group: group, Name: group + "/" + name, Unit: "ns/op", Value: v}
}

func TestMerge(t *testing.T) {
	order := []string{"dispatch", "inprocess", "state"}
	old := &Tree{Commit: "aaa"}
	neu := &Tree{Commit: "bbb", Dirty: true}
	v1 := &Result{Schema: 1, Mode: "full", Machine: Machine{Date: "d1", Go: "go1"}, Seconds: 100, Measurements: []Measurement{
		m("dispatch", "a", 1), m("inprocess", "b", 2), m("state", "c", 3),
	}}
	v2 := &Result{Schema: 2, Mode: "full", Machine: Machine{Date: "d1", Go: "go1"}, Tree: old, Seconds: 100,
		Runs:         []Run{{Group: "dispatch", Date: "d0", Go: "go0"}, {Group: "state", Date: "d1", Go: "go1", Tree: old}},
		Measurements: []Measurement{m("dispatch", "a", 1), m("state", "c", 3)},
	}
	stateRun := Run{Group: "state", Date: "d2", Go: "go2", Tree: neu, Seconds: 5}
	next := &Result{Schema: 2, Mode: "full", Machine: Machine{Date: "d2", Go: "go2"}, Tree: neu, Seconds: 5,
		Runs:         []Run{stateRun},
		Measurements: []Measurement{m("state", "c", 30), m("state", "d", 40)},
	}
	for _, c := range []struct {
		name      string
		prev      *Result
		ran       []string
		wantNames []string
		wantVals  []float64
		wantRuns  []Run
	}{
		{
			name: "schema 1 file: the others keep its run", prev: v1, ran: []string{"state"},
			wantNames: []string{"dispatch/a", "inprocess/b", "state/c", "state/d"},
			wantVals:  []float64{1, 2, 30, 40},
			wantRuns: []Run{
				{Group: "dispatch", Date: "d1", Go: "go1", Seconds: 100},
				{Group: "inprocess", Date: "d1", Go: "go1", Seconds: 100},
				stateRun,
			},
		},
		{
			name: "schema 2 file: runs are kept group by group", prev: v2, ran: []string{"state"},
			wantNames: []string{"dispatch/a", "state/c", "state/d"},
			wantVals:  []float64{1, 30, 40},
			wantRuns:  []Run{{Group: "dispatch", Date: "d0", Go: "go0"}, stateRun},
		},
		{
			name: "a group that ran but measured nothing replaces the old", prev: v1, ran: []string{"inprocess", "state"},
			wantNames: []string{"dispatch/a", "state/c", "state/d"},
			wantVals:  []float64{1, 30, 40},
			wantRuns:  []Run{{Group: "dispatch", Date: "d1", Go: "go1", Seconds: 100}, stateRun},
		},
		{
			name: "empty previous file", prev: &Result{}, ran: []string{"state"},
			wantNames: []string{"state/c", "state/d"},
			wantVals:  []float64{30, 40},
			wantRuns:  []Run{stateRun},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Merge(c.prev, next, c.ran, order)
			var names []string
			var vals []float64
			for _, x := range got.Measurements {
				names, vals = append(names, x.Name), append(vals, x.Value)
			}
			if !reflect.DeepEqual(names, c.wantNames) || !reflect.DeepEqual(vals, c.wantVals) {
				t.Errorf("measurements %v %v, want %v %v", names, vals, c.wantNames, c.wantVals)
			}
			if !reflect.DeepEqual(got.Runs, c.wantRuns) {
				t.Errorf("runs\n%+v\nwant\n%+v", got.Runs, c.wantRuns)
			}
			if got.Machine.Date != "d2" || got.Tree != neu {
				t.Errorf("machine %v, tree %v: want the new run's", got.Machine, got.Tree)
			}
		})
	}
}

// The committed result file (schema 1) still loads.
func TestReadCommittedResult(t *testing.T) {
	res, err := Read(filepath.Join("..", "results", "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "full" || len(res.Measurements) == 0 {
		t.Errorf("mode %q, %d measurements", res.Mode, len(res.Measurements))
	}
}

func TestTreeString(t *testing.T) {
	for _, c := range []struct {
		tree *Tree
		want string
	}{
		{nil, "unknown"},
		{&Tree{Commit: "0123456789abcdef"}, "0123456789ab"},
		{&Tree{Commit: "abc", Dirty: true}, "abc+dirty"},
	} {
		if got := c.tree.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.tree, got, c.want)
		}
	}
}
