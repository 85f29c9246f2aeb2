package dispatch

import (
	"fmt"
	"time"

	"github.com/spawn-go/spawn/bench/internal/loopback"
	"github.com/spawn-go/spawn/bench/measure"
)

// Group is the name of this group in the results.
const Group = "dispatch"

// Options adjust Run for subjects beyond the suite's own.
type Options struct {
	// VersusSpawnGo lists subjects whose ratio is taken against
	// spawn-go (their time / spawn-go's: how many times faster spawn-go
	// is) rather than against the floor.
	VersusSpawnGo map[string]bool
	// BytesTarget and OwnTarget are targets of those subjects, in memory
	// and for their own cost through HTTP.
	BytesTarget, OwnTarget map[string]*measure.Target
}

// Run measures the subjects at every size: in memory (those with a
// Handler) and through HTTP (those with a URL, beside "bare"), in
// interleaved rounds. The first subjects named "handwritten" and "bare"
// are the baselines.
func Run(cfg measure.Config, subjects []Subject, opts Options) ([]measure.Measurement, error) {
	client := loopback.Client(4)
	defer client.CloseIdleConnections()
	var out []measure.Measurement
	for _, sz := range Sizes {
		set := measure.NewSet(Group)
		var mem []*memCaller
		var web []*httpCaller
		for _, s := range subjects {
			if s.Handler != nil {
				c := newMemCaller(s, sz.Bytes)
				if err := check(s, sz, c.call); err != nil {
					return out, fmt.Errorf("in memory: %w", err)
				}
				mem = append(mem, c)
			}
			if s.URL != "" {
				c := newHTTPCaller(s, sz.Bytes, client)
				if err := check(s, sz, c.call); err != nil {
					return out, fmt.Errorf("through HTTP: %w", err)
				}
				web = append(web, c)
			}
		}
		measure.Logf("dispatch %s: %d subjects in memory, %d through HTTP, %d rounds", sz.Name, len(mem), len(web), cfg.Rounds)
		for r := range cfg.Rounds {
			for _, i := range measure.Rotate(len(mem), r) {
				c := mem[i]
				ns, err := measure.Serial(cfg.Dur, func() error { _, err := c.call(); return err })
				if err != nil {
					return out, err
				}
				set.Add("bytes/"+sz.Name+"/"+c.s.Name, ns)
			}
			for _, i := range measure.Rotate(len(web), r) {
				c := web[i]
				ns, err := measure.Serial(cfg.Dur, func() error { _, err := c.call(); return err })
				if err != nil {
					return out, err
				}
				set.Add("http/"+sz.Name+"/"+c.s.Name, ns)
			}
			bare := set.Samples("http/" + sz.Name + "/bare")
			if len(bare) == r+1 {
				for _, c := range web {
					if c.s.Name != "bare" {
						total := set.Samples("http/" + sz.Name + "/" + c.s.Name)
						set.Add("http-own/"+sz.Name+"/"+c.s.Name, total[r]-bare[r])
					}
				}
			}
		}
		for _, c := range mem {
			name, base := "bytes/"+sz.Name+"/"+c.s.Name, "bytes/"+sz.Name+"/handwritten"
			var t *measure.Target
			switch {
			case c.s.Name == "handwritten":
				base = ""
			case opts.VersusSpawnGo[c.s.Name]:
				base, t = "bytes/"+sz.Name+"/spawn-go", opts.BytesTarget[c.s.Name]
			}
			out = append(out, set.M(name, "ns/op", base, t, ""))
		}
		for _, c := range web {
			name, base := "http/"+sz.Name+"/"+c.s.Name, "http/"+sz.Name+"/bare"
			if c.s.Name == "bare" {
				base = ""
			}
			out = append(out, set.M(name, "ns/op", base, nil, ""))
		}
		for _, c := range web {
			if c.s.Name == "bare" {
				continue
			}
			name, base := "http-own/"+sz.Name+"/"+c.s.Name, "http-own/"+sz.Name+"/handwritten"
			var t *measure.Target
			switch {
			case c.s.Name == "handwritten":
				base = ""
			case opts.VersusSpawnGo[c.s.Name]:
				base, t = "http-own/"+sz.Name+"/spawn-go", opts.OwnTarget[c.s.Name]
			}
			out = append(out, set.M(name, "ns/op", base, t, "whole request minus the bare handler's, same round"))
		}
		if cfg.ProfileDir != "" && sz.Name == "1KiB" {
			for _, c := range mem {
				if c.s.Name == "spawn-go" {
					if err := measure.ProfileCPU(cfg.ProfileDir, "dispatch-bytes-1KiB-spawn-go", 3*cfg.Dur+time.Second, func() error { _, err := c.call(); return err }); err != nil {
						return out, err
					}
				}
			}
			for _, c := range web {
				if c.s.Name == "spawn-go" {
					if err := measure.ProfileCPU(cfg.ProfileDir, "dispatch-http-1KiB-spawn-go", 3*cfg.Dur+time.Second, func() error { _, err := c.call(); return err }); err != nil {
						return out, err
					}
				}
			}
		}
	}
	return out, nil
}

func check(s Subject, sz Size, call func() ([]byte, error)) error {
	resp, err := call()
	if err == nil {
		err = s.Check(sz.Bytes, resp)
	}
	if err != nil {
		return fmt.Errorf("%s at %s: %w", s.Name, sz.Name, err)
	}
	return nil
}

// Suite starts the suite's own subjects (handwritten, bare, spawn-go,
// dapr), runs them, and stops them.
func Suite(cfg measure.Config) ([]measure.Measurement, error) {
	var subjects []Subject
	defer func() {
		for _, s := range subjects {
			s.Close()
		}
	}()
	for _, start := range []func() (Subject, error){HandWrittenSubject, BareSubject, SpawnGoSubject, DaprSubject} {
		s, err := start()
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, s)
	}
	return Run(cfg, subjects, Options{VersusSpawnGo: map[string]bool{"dapr": true}})
}
