package dashboard

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// Call is an invocation that has ended, as the page shows it: plain
// values, with nothing of the engine's kept.
type Call struct {
	At     time.Time
	Actor  runtime.ActorRef
	Action string
	// Caller is the calling actor; zero for a call from outside any actor.
	Caller runtime.ActorRef
	Origin runtime.Origin
	Async  bool
	// Queued is how long it waited in the mailbox, Took how long it ran.
	Queued, Took time.Duration
	Outcome      runtime.Outcome
	// Err is why it failed; "" for OutcomeOK.
	Err string
	// Input and Reply are the names of the messages it received and
	// answered; "" for none.
	Input, Reply string
	Checkpoint   bool
	// Workflow says what the reply asked for besides the answer, one
	// line per step: effects, broadcast, pipe or forward.
	Workflow []string
}

// Failed reports whether the call did not succeed.
func (c Call) Failed() bool { return c.Outcome != runtime.OutcomeOK }

// Stats are the counts of one actor's calls since the dashboard started.
type Stats struct {
	Calls, Failures int
	// Last is when its last call ended.
	Last time.Time
}

// maxStats bounds the actors counted, so that calls to ever new names
// cannot grow the counts without bound.
const maxStats = 10_000

// Recent keeps the last invocations of an engine, fed by its Observer, and
// counts each actor's calls. It is safe for concurrent use.
type Recent struct {
	mu    sync.Mutex
	ring  []Call
	next  int // where the next call goes
	full  bool
	stats map[string]*Stats
}

// NewRecent keeps the last n invocations (256 when n <= 0).
func NewRecent(n int) *Recent {
	if n <= 0 {
		n = 256
	}
	return &Recent{ring: make([]Call, n), stats: make(map[string]*Stats)}
}

// Observer returns the runtime.Observer that feeds r.
func (r *Recent) Observer() runtime.Observer {
	return runtime.Observer{Invoked: r.add}
}

// statsKey is the name an actor's calls are counted under: an instance's
// under its unnamed actor's, as the page lists registered actors.
func statsKey(a runtime.ActorRef) string {
	if a.Parent != "" {
		return a.Parent
	}
	return a.Name
}

func (r *Recent) add(inv runtime.Invocation) {
	c := Call{
		At: inv.At, Actor: inv.Actor, Action: inv.Action, Caller: inv.Caller, Origin: inv.Origin,
		Async: inv.Async, Queued: inv.Queued, Took: inv.Took, Outcome: inv.Outcome,
		Input: typeName(inv.Input), Reply: typeName(inv.Reply), Checkpoint: inv.Checkpoint,
		Workflow: workflowLines(inv.Workflow),
	}
	if inv.Err != nil {
		c.Err = inv.Err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.next] = c
	r.next++
	if r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
	key := statsKey(inv.Actor)
	s := r.stats[key]
	if s == nil {
		if len(r.stats) >= maxStats {
			return
		}
		s = &Stats{}
		r.stats[key] = s
	}
	s.Calls++
	if c.Failed() {
		s.Failures++
	}
	if c.At.After(s.Last) {
		s.Last = c.At
	}
}

// Calls returns the calls kept that keep accepts (all for nil), newest
// first, at most limit of them (all for limit <= 0).
func (r *Recent) Calls(keep func(*Call) bool, limit int) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	n := r.next
	if r.full {
		n = len(r.ring)
	}
	for i := range n {
		c := &r.ring[(r.next-1-i+len(r.ring))%len(r.ring)]
		if keep != nil && !keep(c) {
			continue
		}
		out = append(out, *c)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

// Stats returns the counts of actor's calls, an instance's counted under
// its unnamed actor.
func (r *Recent) Stats(actor string) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.stats[actor]; s != nil {
		return *s
	}
	return Stats{}
}

// typeName is the name of a payload's message: the last part of its type
// URL.
func typeName(a *anypb.Any) string {
	if a == nil {
		return ""
	}
	u := a.GetTypeUrl()
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		u = u[i+1:]
	}
	return u
}

// workflowLines describes a workflow, one line per step.
func workflowLines(w *runtime.Workflow) []string {
	if w == nil {
		return nil
	}
	var out []string
	for _, e := range w.Effects {
		s := "effect → " + target(e.To) + "." + e.Action
		if !e.At.IsZero() {
			s += " at " + e.At.Format("15:04:05.000")
		}
		out = append(out, s)
	}
	if b := w.Broadcast; b != nil {
		s := "broadcast → " + b.Topic
		if b.Action != "" {
			s += " (" + b.Action + ")"
		}
		out = append(out, s)
	}
	if rt := w.Route; rt != nil {
		kind := "forward"
		if rt.Pipe {
			kind = "pipe"
		}
		out = append(out, fmt.Sprintf("%s → %s.%s", kind, target(rt.To), rt.Action))
	}
	return out
}

// target names an actor in a workflow: by name, in its system when that
// is not the default one.
func target(a runtime.ActorRef) string {
	if a.System != "" && a.System != protocol.DefaultSystem {
		return a.System + "/" + a.Name
	}
	return a.Name
}
