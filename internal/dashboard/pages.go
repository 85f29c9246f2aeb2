package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// head is what every page shows at its top.
type head struct {
	Title  string
	System string
	Where  string
	// Now is when the page was made.
	Now time.Time
	// Live is the address the script reads the page's live parts from:
	// the page's own, or, for the answer to a form, the page it was on.
	Live string
}

func (d *Dashboard) head(title string, r *http.Request) head {
	live := r.URL.RequestURI()
	switch {
	case r.Method != http.MethodGet:
		live = actorURL(r.PathValue("name"), r.FormValue("parent"))
	case r.URL.Query().Has("current"):
		// The state read from the actor is read once, not at every
		// refresh: each read would count as the actor's activity.
		u := *r.URL
		q := u.Query()
		q.Del("current")
		u.RawQuery = q.Encode()
		live = u.RequestURI()
	}
	return head{Title: title, System: d.o.System, Where: d.o.Where, Now: time.Now(), Live: live}
}

// actorRow is a registered actor on the overview.
type actorRow struct {
	runtime.ActorInfo
	URL string
	// Active are its active instances (of a pool: 1 when active), and
	// Mailbox the messages waiting in their mailboxes.
	Active, Mailbox int
	// Last is its last activity: its last call ended, or its mailbox
	// last ran empty.
	Last  time.Time
	Stats Stats
}

type overviewPage struct {
	head
	Actors     []actorRow
	Topics     []runtime.TopicInfo
	Calls      []Call
	ErrorsOnly bool
	Recording  bool
}

// maxCallsShown bounds the invocations one page lists.
const maxCallsShown = 100

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	eng := d.o.Engine
	acts := eng.Activations()
	p := overviewPage{head: d.head("actors", r), Topics: eng.Topics(), ErrorsOnly: r.URL.Query().Get("errors") == "1", Recording: d.o.Recent != nil}
	for _, info := range eng.Actors() {
		row := actorRow{ActorInfo: info, URL: actorURL(info.Actor.Name, "")}
		for _, a := range acts {
			if a.Actor.System != info.Actor.System || (a.Actor.Name != info.Actor.Name && a.Actor.Parent != info.Actor.Name) {
				continue
			}
			row.Active++
			row.Mailbox += a.Mailbox
			if a.LastActive.After(row.Last) {
				row.Last = a.LastActive
			}
		}
		if d.o.Recent != nil {
			row.Stats = d.o.Recent.Stats(info.Actor.Name)
			if row.Stats.Last.After(row.Last) {
				row.Last = row.Stats.Last
			}
		}
		p.Actors = append(p.Actors, row)
	}
	if d.o.Recent != nil {
		var keep func(*Call) bool
		if p.ErrorsOnly {
			keep = func(c *Call) bool { return c.Failed() }
		}
		p.Calls = d.o.Recent.Calls(keep, maxCallsShown)
	}
	d.render(w, http.StatusOK, "overview.html", p)
}

// stateView is a state shown on an actor's page.
type stateView struct {
	Shown
	// What says which state it is: "the current state", "revision 3".
	What string
	Tags map[string]string
	// TagKeys are the tags' keys, in order.
	TagKeys []string
}

// revisionRow is a revision in an actor's list.
type revisionRow struct {
	runtime.RevisionInfo
	// Latest: the latest revision saved.
	Latest bool
}

// diffView is the diff of two revisions.
type diffView struct {
	From, To int64
	Rows     []diffRow
	Same     bool
	Err      string
}

// diffRow is a line of a diff as shown: a line, or a run of unchanged
// lines left out (Skipped of them).
type diffRow struct {
	Line
	Skipped int
}

type actorPage struct {
	head
	Name, Parent string
	// Info is the registered actor; for an instance, its unnamed actor.
	Info       *runtime.ActorInfo
	Activation *runtime.ActivationInfo
	Instances  []instanceRow
	Stateful   bool
	State      *stateView
	StateErr   string
	// Unsaved: the actor changed its state since the revision shown.
	// CanRead: its state can be read from the actor (?current=1), and
	// ReadNow: it was.
	Unsaved, CanRead, ReadNow bool
	Revisions                 []revisionRow
	RevErr                    string
	Diff                      *diffView
	// Restored says what a restore just did; Problem what failed.
	Restored string
	Problem  string
	Calls    []Call
	Stats    Stats
	// CanCall: the page can call actions. CallAction, CallBody and
	// CallInstance are the last call's form; CallReply or CallErr its
	// answer.
	CanCall                            bool
	Actions                            []string
	CallAction, CallInstance, CallBody string
	CallReply, CallErr                 string
	Called                             bool
	Recording                          bool
}

// instanceRow is an instance of an unnamed actor.
type instanceRow struct {
	Name, URL string
	Active    bool
	Mailbox   int
}

func (d *Dashboard) actor(w http.ResponseWriter, r *http.Request) {
	p, status := d.actorPage(r)
	q := r.URL.Query()
	if n := q.Get("restored"); n != "" {
		p.Restored = fmt.Sprintf("Revision %s is the state again, saved as revision %s.", n, q.Get("as"))
		if q.Get("same") != "" {
			p.Restored = fmt.Sprintf("Revision %s is the state again. The actor already held that state, as revision %s, so no new revision was saved.", n, q.Get("as"))
		}
	}
	d.render(w, status, "actor.html", p)
}

// actorPage reads what the page of the actor r names shows.
func (d *Dashboard) actorPage(r *http.Request) (*actorPage, int) {
	eng := d.o.Engine
	name, q := r.PathValue("name"), r.URL.Query()
	p := &actorPage{head: d.head(name, r), Name: name, Parent: q.Get("parent"), CanCall: d.o.Call != nil, Recording: d.o.Recent != nil}
	actors := eng.Actors()
	for i := range actors {
		if actors[i].Actor.Name == name {
			p.Info = &actors[i]
		}
	}
	for _, a := range eng.Activations() {
		if a.Actor.Name == name {
			p.Activation = &a
			if p.Parent == "" {
				p.Parent = a.Actor.Parent
			}
		}
	}
	if p.Info == nil && p.Parent != "" {
		for i := range actors {
			if actors[i].Actor.Name == p.Parent {
				p.Info = &actors[i]
			}
		}
	}
	if p.Info == nil && p.Activation == nil {
		p.Problem = fmt.Sprintf("No actor %q is registered, and none of that name is active.", name)
		return p, http.StatusNotFound
	}
	if p.Info != nil {
		p.Stateful = p.Info.Stateful
		p.Actions = p.Info.Actions
		if p.Info.Kind == protocol.Kind_UNNAMED.String() && p.Parent == "" {
			p.Instances = d.instances(p.Info)
		}
	}
	if d.o.Recent != nil {
		p.Calls = d.o.Recent.Calls(func(c *Call) bool {
			return c.Actor.Name == name || (p.Instances != nil && c.Actor.Parent == name)
		}, maxCallsShown)
		p.Stats = d.o.Recent.Stats(name)
	}
	if p.Info != nil && p.Info.Kind == protocol.Kind_UNNAMED.String() && p.Parent == "" {
		// An unnamed actor has no state of its own: its instances have.
		return p, http.StatusOK
	}
	id := &protocol.ActorId{Name: name, System: d.o.System, Parent: p.Parent}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if p.Stateful {
		revs, err := eng.Revisions(ctx, id)
		if err != nil {
			p.RevErr = err.Error()
		}
		for i, rv := range revs {
			p.Revisions = append(p.Revisions, revisionRow{RevisionInfo: rv, Latest: i == len(revs)-1})
		}
		slices.Reverse(p.Revisions)
	}
	d.readState(ctx, p, id, q.Get("rev"), q.Get("current") == "1")
	if q.Has("from") || q.Has("to") {
		p.Diff = d.diff(ctx, id, q.Get("from"), q.Get("to"))
	}
	return p, http.StatusOK
}

func (d *Dashboard) instances(info *runtime.ActorInfo) []instanceRow {
	rows := []instanceRow{}
	active := map[string]runtime.ActivationInfo{}
	for _, a := range d.o.Engine.Activations() {
		if a.Actor.Parent == info.Actor.Name {
			active[a.Actor.Name] = a
		}
	}
	names := slices.Sorted(slices.Values(info.Instances))
	for n := range active {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		a, ok := active[n]
		rows = append(rows, instanceRow{Name: n, URL: actorURL(n, info.Actor.Name), Active: ok, Mailbox: a.Mailbox})
	}
	return rows
}

// readState reads the state the page shows: revision rev, when asked for;
// the state held by the active actor, when asked for (current); otherwise
// the latest revision stored. The page reads the store only, unless asked:
// a read from the actor waits its turn in its mailbox and counts as its
// activity, so that a page refreshed every two seconds would keep the
// actor from ever deactivating.
func (d *Dashboard) readState(ctx context.Context, p *actorPage, id *protocol.ActorId, rev string, current bool) {
	eng := d.o.Engine
	p.CanRead = p.Activation != nil
	if rev != "" {
		n, err := strconv.ParseInt(rev, 10, 64)
		if err != nil {
			p.StateErr = fmt.Sprintf("revision %q is not a number", rev)
			return
		}
		st, err := eng.StateAt(ctx, id, n)
		if err != nil {
			p.StateErr = err.Error()
			return
		}
		p.State = d.view(st, fmt.Sprintf("revision %d, as it was saved", n))
		return
	}
	if !(current && p.Activation != nil) {
		switch {
		case p.Stateful && len(p.Revisions) > 0:
			latest := p.Revisions[0].Revision
			st, err := eng.StateAt(ctx, id, latest)
			if err != nil {
				p.StateErr = err.Error()
				return
			}
			what := fmt.Sprintf("revision %d, the latest saved", latest)
			switch {
			case p.Activation == nil:
				what += ": the actor is not active"
			case p.Activation.Unsaved:
				p.Unsaved = true
			}
			p.State = d.view(st, what)
		case p.Activation != nil:
			p.StateErr = "Its state is in its memory only, not saved yet."
		default:
			p.StateErr = "The actor is not active, and no state of it is stored."
		}
		return
	}
	cur, err := eng.CurrentState(ctx, id)
	if err != nil {
		p.StateErr = err.Error()
		return
	}
	p.ReadNow = true
	what := "the state the actor holds, read at " + time.Now().Format("15:04:05.000")
	switch {
	case !p.Stateful:
	case cur.Revision == 0:
		what += ", not saved yet"
	case cur.Unsaved:
		what += fmt.Sprintf(": revision %d and changes not saved yet", cur.Revision)
	default:
		what += fmt.Sprintf(", saved as revision %d", cur.Revision)
	}
	p.State = d.view(&protocol.ActorState{State: cur.State, Tags: cur.Tags}, what)
}

func (d *Dashboard) view(st *protocol.ActorState, what string) *stateView {
	v := &stateView{What: what, Tags: st.GetTags(), TagKeys: slices.Sorted(maps.Keys(st.GetTags()))}
	if st.GetState() != nil {
		v.Shown = show(st.GetState(), d.o.Types)
	}
	return v
}

// context lines kept around the changes of a diff.
const contextLines = 3

// diff compares revisions from and to; from defaults to the one before to,
// and to to the latest.
func (d *Dashboard) diff(ctx context.Context, id *protocol.ActorId, from, to string) *diffView {
	v := &diffView{}
	var err error
	if v.From, err = strconv.ParseInt(from, 10, 64); err != nil {
		v.Err = fmt.Sprintf("revision %q is not a number", from)
		return v
	}
	if v.To, err = strconv.ParseInt(to, 10, 64); err != nil {
		v.Err = fmt.Sprintf("revision %q is not a number", to)
		return v
	}
	var texts [2][]string
	for i, n := range []int64{v.From, v.To} {
		st, err := d.o.Engine.StateAt(ctx, id, n)
		if err != nil {
			v.Err = err.Error()
			return v
		}
		sv := d.view(st, "")
		lines := strings.Split(sv.Text, "\n")
		if sv.Text == "" {
			lines = nil
		}
		for _, k := range sv.TagKeys {
			lines = append(lines, "tag "+k+" = "+sv.Tags[k])
		}
		texts[i] = lines
	}
	lines := Diff(texts[0], texts[1])
	v.Same = true
	for i := 0; i < len(lines); {
		if lines[i].Op != Same {
			v.Same = false
			v.Rows = append(v.Rows, diffRow{Line: lines[i]})
			i++
			continue
		}
		j := i
		for j < len(lines) && lines[j].Op == Same {
			j++
		}
		// A run of unchanged lines: keep its edges next to changes.
		keepHead, keepTail := contextLines, contextLines
		if i == 0 {
			keepHead = 0
		}
		if j == len(lines) {
			keepTail = 0
		}
		if j-i <= keepHead+keepTail+1 {
			for ; i < j; i++ {
				v.Rows = append(v.Rows, diffRow{Line: lines[i]})
			}
			continue
		}
		for k := i; k < i+keepHead; k++ {
			v.Rows = append(v.Rows, diffRow{Line: lines[k]})
		}
		v.Rows = append(v.Rows, diffRow{Skipped: j - i - keepHead - keepTail})
		for k := j - keepTail; k < j; k++ {
			v.Rows = append(v.Rows, diffRow{Line: lines[k]})
		}
		i = j
	}
	return v
}

// restore restores the revision the form names, then shows the actor's
// page again, saying what it did.
func (d *Dashboard) restore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	parent, rev := r.FormValue("parent"), r.FormValue("revision")
	n, err := strconv.ParseInt(rev, 10, 64)
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		id := &protocol.ActorId{Name: name, System: d.o.System, Parent: parent}
		latest := func() int64 {
			if revs, rerr := d.o.Engine.Revisions(ctx, id); rerr == nil && len(revs) > 0 {
				return revs[len(revs)-1].Revision
			}
			return -1
		}
		before := latest()
		if err = d.o.Engine.Restore(ctx, id, n); err == nil {
			// The revision it was saved as is the latest now, unless the
			// actor already held that state: then nothing new is saved.
			as := "a new one"
			after := latest()
			if after >= 0 {
				as = strconv.FormatInt(after, 10)
			}
			u, _ := url.Parse(actorURL(name, parent))
			q := u.Query()
			q.Set("restored", rev)
			q.Set("as", as)
			if after >= 0 && after == before {
				q.Set("same", "1")
			}
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
	} else {
		err = fmt.Errorf("revision %q is not a number", rev)
	}
	r.URL.RawQuery = url.Values{"parent": {parent}}.Encode()
	p, _ := d.actorPage(r)
	p.Problem = "The restore failed, and changed nothing: " + err.Error()
	d.render(w, http.StatusUnprocessableEntity, "actor.html", p)
}

// maxCallBody bounds the JSON of a call made from the page.
const maxCallBody = 1 << 20

// call calls an action with the form's JSON, and shows its reply on the
// actor's page.
func (d *Dashboard) call(w http.ResponseWriter, r *http.Request) {
	if d.o.Call == nil {
		http.Error(w, "calls from the dashboard need the JSON activator (spawn.WithActivator)", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "the call's input is over 1 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the form cannot be read: "+err.Error(), http.StatusBadRequest)
		return
	}
	name := r.PathValue("name")
	action, instance, body, parent := r.PostFormValue("action"), "", r.PostFormValue("body"), r.PostFormValue("parent")
	actor := name
	if parent != "" {
		actor, instance = parent, name
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	reply, err := d.o.Call(ctx, actor, instance, action, []byte(body))
	r.URL.RawQuery = url.Values{"parent": {parent}}.Encode()
	p, _ := d.actorPage(r)
	p.Called, p.CallAction, p.CallInstance, p.CallBody = true, action, instance, body
	status := http.StatusOK
	switch {
	case err != nil:
		p.CallErr = err.Error()
		status = http.StatusUnprocessableEntity
	case len(reply) == 0:
		p.CallReply = "(no reply)"
	default:
		var b bytes.Buffer
		if json.Indent(&b, reply, "", "  ") != nil {
			b.Reset()
			b.Write(reply)
		}
		p.CallReply = b.String()
	}
	d.render(w, status, "actor.html", p)
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("15:04:05.000")
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format(time.RFC3339Nano)
	},
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return short(now.Sub(t)) + " ago"
	},
	"dur":      short,
	"period":   period,
	"actorURL": actorURL,
	"ref": func(a runtime.ActorRef) string {
		if a.IsZero() {
			return ""
		}
		return a.Name
	},
	"bytes": func(n int) string {
		switch {
		case n < 1<<10:
			return strconv.Itoa(n) + " B"
		case n < 1<<20:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	},
	"sign": func(op Op) string { return [...]string{" ", "-", "+"}[op] },
	"num": func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	},
	"minus": func(a, b int64) int64 { return a - b },
}

// short writes a duration with three significant digits at most.
func short(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'g', 3, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// period writes a setting's duration; 0 means never.
func period(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return d.String()
}
