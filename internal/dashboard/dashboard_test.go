package dashboard_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/dashboard"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Counter keeps a number and its log; every change is checkpointed, so
// every call is a revision.
type Counter struct {
	spawn.Actor `spawn:"name=counter,channel=ticks:Hear"`
	State       *testpb.CounterState `spawn:"state"`
}

func (c *Counter) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	if in.Delta == 0 {
		return spawn.Value{}, errors.New("nothing to add")
	}
	c.State.Value += in.Delta
	c.State.Log = append(c.State.Log, "added")
	return spawn.Reply(&testpb.Total{Value: c.State.Value}).Checkpoint().Broadcast("ticks", &testpb.Text{Text: "tick"}), nil
}

func (c *Counter) Get(ctx *spawn.Context) (*testpb.Total, error) {
	return &testpb.Total{Value: c.State.Value}, nil
}

func (c *Counter) Hear(ctx *spawn.Context, in *testpb.Text) error { return nil }

// Clock is stateless, with a timer.
type Clock struct {
	spawn.Actor `spawn:"name=clock,stateful=false,timer=1h"`
}

func (c *Clock) Tick(ctx *spawn.Context, _ spawn.Tick) error { return nil }

// Basket is unnamed.
type Basket struct {
	spawn.Actor `spawn:"name=basket,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (b *Basket) Put(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	b.State.Value += in.Delta
	return &testpb.Total{Value: b.State.Value}, nil
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// start runs the three actors with the dashboard, and makes three
// revisions of the counter and one failed call.
func start(t *testing.T, opts ...any) (*spawn.System, string) {
	t.Helper()
	args := append([]any{&Counter{}, &Clock{}, &Basket{}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithDashboard("127.0.0.1:0"), spawn.WithLogger(zap.NewNop())}, opts...)
	sys, err := spawn.Start(ctx(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Stop(context.Background()) })
	for _, d := range []int64{1, 2, 3, 0} {
		_ = sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: d}, nil)
	}
	if err := sys.Invoke(ctx(t), "basket", "Put", &testpb.Add{Delta: 5}, nil, spawn.Instance("b-1")); err != nil {
		t.Fatal(err)
	}
	return sys, "http://" + sys.DashboardAddress().String()
}

// get reads a page, and checks its status.
func get(t *testing.T, c *http.Client, u string, want int) string {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", u, res.StatusCode, want, b)

	}
	return string(b)
}

func contains(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("the page does not show %q", w)
		}
	}
}

func TestOverview(t *testing.T) {
	_, base := start(t)
	page := get(t, nil, base+"/", http.StatusOK)
	contains(t, page,
		`<a href="/actors/counter">counter</a>`, `<a href="/actors/basket">basket</a>`, `<a href="/actors/clock">clock</a>`,
		"UNNAMED", "stateless · deactivate 30s", "Tick every 1h0m0s", "ticks → Hear",
		"1 instance known", "1 failed",
		// The topic and its subscriber.
		`<td>ticks</td><td><a href="/actors/counter">counter</a>.Hear</td>`,
		// The invocations: a failure stands out, a workflow is told.
		`class="failed"`, "nothing to add", "broadcast → ticks", "spawn.test.Add → spawn.test.Total", "of basket",
	)
	failures := get(t, nil, base+"/?errors=1", http.StatusOK)
	if n := strings.Count(failures, `<tr class="failed">`); n != 1 || strings.Contains(failures, `<tr class="">`) {
		t.Errorf("the failures only list shows %d failures and others:\n%s", n, failures)
	}
	css := get(t, nil, base+"/static/style.css", http.StatusOK)
	js := get(t, nil, base+"/static/live.js", http.StatusOK)
	if !strings.Contains(css, "tr.failed") || !strings.Contains(js, "data-live") {
		t.Error("the style sheet or the script is not served")
	}
	// Nothing from elsewhere: the page works offline.
	for _, p := range []string{page, css, js} {
		if regexp.MustCompile(`(src|href)="?https?://|url\(https?:|@import`).MatchString(p) {
			t.Errorf("the page loads something from the network:\n%s", p)
		}
	}
}

func TestActorPage(t *testing.T) {
	_, base := start(t)
	page := get(t, nil, base+"/actors/counter", http.StatusOK)
	contains(t, page,
		"revision 3, the latest saved",
		"type.googleapis.com/spawn.test.CounterState",
		"&#34;value&#34;: &#34;6&#34;",
		`data-revision="3"`, `data-revision="1"`,
		`name="revision" value="2"`, // restore buttons, but for the latest
		"<code>Add</code>, <code>Get</code>, <code>Hear</code>", "ticks → <code>Hear</code>",
	)
	if strings.Contains(page, `name="revision" value="3"`) {
		t.Error("the latest revision has a restore button")
	}
	old := get(t, nil, base+"/actors/counter?rev=1", http.StatusOK)
	contains(t, old, "revision 1, as it was saved", "&#34;value&#34;: &#34;1&#34;")

	diff := get(t, nil, base+"/actors/counter?from=1&to=3", http.StatusOK)
	contains(t, diff, "From revision 1 (−) to revision 3 (+).",
		`<tr class="op1"><td class="ln">2</td><td class="ln"></td><td><span class="sign">-</span>  &#34;value&#34;: &#34;1&#34;,</td></tr>`,
		`<tr class="op2"><td class="ln"></td><td class="ln">2</td><td><span class="sign">&#43;</span>  &#34;value&#34;: &#34;6&#34;,</td></tr>`)
	same := get(t, nil, base+"/actors/counter?from=2&to=2", http.StatusOK)
	contains(t, same, "Revisions 2 and 2 hold the same state and tags.")
	missing := get(t, nil, base+"/actors/counter?from=1&to=9", http.StatusOK)
	contains(t, missing, "has no revision 9")

	// An unnamed actor lists its instances, and an instance shows its state.
	basket := get(t, nil, base+"/actors/basket", http.StatusOK)
	contains(t, basket, `<a href="/actors/b-1?parent=basket">b-1</a>`)
	// Its state is not saved yet: the page reads it from the actor when
	// asked only, and reads it once.
	inst := get(t, nil, base+"/actors/b-1?parent=basket", http.StatusOK)
	contains(t, inst, "instance of basket", "Its state is in its memory only, not saved yet.", `href="?parent=basket&amp;current=1#state"`)
	inst = get(t, nil, base+"/actors/b-1?parent=basket&current=1", http.StatusOK)
	contains(t, inst, "the state the actor holds, read at", ", not saved yet", "&#34;value&#34;: &#34;5&#34;",
		`data-live-url="/actors/b-1?parent=basket"`)

	get(t, nil, base+"/actors/nobody", http.StatusNotFound)
}

// form posts a form as the page does, from its own origin.
func form(t *testing.T, c *http.Client, u, origin string, v url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestRestore restores a revision from the page: later calls see it, and
// the history keeps the state it replaced. A form from another site is
// refused.
func TestRestore(t *testing.T) {
	sys, base := start(t)
	res := form(t, nil, base+"/actors/counter/restore", base, url.Values{"revision": {"1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/actors/counter?as=4&restored=1" {
		t.Fatalf("restore: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var total testpb.Total
	if err := sys.Invoke(ctx(t), "counter", "Get", nil, &total); err != nil || total.Value != 1 {
		t.Fatalf("after the restore, Get = %v, %v; want 1", total.Value, err)
	}
	page := get(t, nil, base+res.Header.Get("Location"), http.StatusOK)
	contains(t, page, "Revision 1 is the state again, saved as revision 4.", "revision 4, the latest saved")

	// Restoring it again changes nothing, and the page says so.
	again := form(t, nil, base+"/actors/counter/restore", base, url.Values{"revision": {"1"}})
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != "/actors/counter?as=4&restored=1&same=1" {
		t.Fatalf("restoring the same revision again: %d to %q", again.StatusCode, again.Header.Get("Location"))
	}
	page = get(t, nil, base+again.Header.Get("Location"), http.StatusOK)
	contains(t, page, "The actor already held that state, as revision 4, so no new revision was saved.")

	bad := form(t, nil, base+"/actors/counter/restore", base, url.Values{"revision": {"9"}})
	body, _ := io.ReadAll(bad.Body)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "The restore failed, and changed nothing") {
		t.Errorf("restoring a missing revision: %d\n%s", bad.StatusCode, body)
	}

	evil := form(t, nil, base+"/actors/counter/restore", "http://evil.example", url.Values{"revision": {"2"}})
	if evil.StatusCode != http.StatusForbidden {
		t.Errorf("a restore posted from another site: %d, want 403", evil.StatusCode)
	}
	if err := sys.Invoke(ctx(t), "counter", "Get", nil, &total); err != nil || total.Value != 1 {
		t.Fatalf("after the refused restore, Get = %v, %v; want 1", total.Value, err)
	}
}

// TestOtherHostsRefused: a page of another site whose name points at this
// machine cannot read the dashboard.
func TestOtherHostsRefused(t *testing.T) {
	_, base := start(t)
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Host = "attacker.example"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a request for another host: %d, want 421", res.StatusCode)
	}
	req.Host = "localhost:1234"
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a request for localhost: %d, want 200", res.StatusCode)
	}
}

// TestToken: with a token, the page needs it once, then keeps it in a
// cookie; a script sends it as a bearer token.
func TestToken(t *testing.T) {
	_, base := start(t, spawn.WithToken("s3cret"))
	get(t, nil, base+"/", http.StatusUnauthorized)
	get(t, nil, base+"/?token=wrong", http.StatusUnauthorized)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := get(t, c, base+"/actors/counter?token=s3cret&rev=1", http.StatusOK)
	contains(t, page, "revision 1, as it was saved")
	if strings.Contains(page, "s3cret") {
		t.Error("the page shows the token")
	}
	get(t, c, base+"/", http.StatusOK)
	if res := form(t, c, base+"/actors/counter/restore", base, url.Values{"revision": {"2"}}); res.StatusCode != http.StatusOK {
		t.Errorf("a restore with the cookie: %d, want 200 after the redirect", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("with the bearer token: %d", res.StatusCode)
	}
}

// TestCall calls an action from the page, through the JSON activator.
func TestCall(t *testing.T) {
	_, base := start(t, spawn.WithActivator("127.0.0.1:0"))
	page := get(t, nil, base+"/actors/counter", http.StatusOK)
	contains(t, page, `<option>Add</option>`)
	res := form(t, nil, base+"/actors/counter/call", base, url.Values{"action": {"Add"}, "body": {`{"delta": 4}`}})
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "&#34;value&#34;: &#34;10&#34;") {
		t.Errorf("call: %d\n%s", res.StatusCode, body)
	}
	// The answer's live parts are read from the actor's page, not from
	// the form's address.
	if !strings.Contains(string(body), `data-live-url="/actors/counter"`) {
		t.Error("the answer to a call refreshes from the form's address")
	}
	if res := form(t, nil, base+"/actors/counter/call", base, url.Values{"action": {"Add"}, "body": {strings.Repeat(" ", 1<<20)}}); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a call of over 1 MiB: %d, want 413", res.StatusCode)
	}
	res = form(t, nil, base+"/actors/b-1/call", base, url.Values{"action": {"Put"}, "parent": {"basket"}, "body": {`{"delta": 1}`}})
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "&#34;value&#34;: &#34;6&#34;") {
		t.Errorf("call to an instance: %d\n%s", res.StatusCode, body)
	}
	res = form(t, nil, base+"/actors/counter/call", base, url.Values{"action": {"Add"}, "body": {`{"delta": "x"}`}})
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "INVALID") {
		t.Errorf("a call with a bad body: %d\n%s", res.StatusCode, body)
	}

	// Without the activator, the page has no form, and no route to call.
	_, base = start(t)
	if strings.Contains(get(t, nil, base+"/actors/counter", http.StatusOK), `action="/actors/counter/call"`) {
		t.Error("a call form without the activator")
	}
	if res := form(t, nil, base+"/actors/counter/call", base, url.Values{"action": {"Add"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a call without the activator: %d, want 404", res.StatusCode)
	}
}

// TestLoopbackOnly: the dashboard refuses to listen beyond this machine.
func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if l, err := dashboard.Listen(addr); err == nil {
			l.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	_, err := spawn.Start(ctx(t), &Clock{}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithDashboard("0.0.0.0:9090"))
	if err == nil || !strings.Contains(err.Error(), "loopback only") || !strings.Contains(err.Error(), "SPAWN_DASHBOARD_ADDR") {
		t.Errorf("Start with a dashboard on every interface: %v", err)
	}
	l, err := dashboard.Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.HasPrefix(l.Addr().String(), "127.0.0.1:") {
		t.Errorf("Listen(\":0\") listens on %s, want 127.0.0.1", l.Addr())
	}
}

// TestFromTheEnvironment: SPAWN_DASHBOARD_ADDR turns the dashboard on, and
// nothing else does.
func TestFromTheEnvironment(t *testing.T) {
	sys, err := spawn.Start(ctx(t), &Clock{}, spawn.WithEmbedded(), spawn.WithMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	if a := sys.DashboardAddress(); a != nil {
		t.Errorf("a dashboard at %s, without asking", a)
	}
	_ = sys.Stop(ctx(t))

	t.Setenv("SPAWN_DASHBOARD_ADDR", "127.0.0.1:0")
	sys, err = spawn.Start(ctx(t), &Clock{}, spawn.WithEmbedded(), spawn.WithMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop(ctx(t))
	if sys.DashboardAddress() == nil {
		t.Fatal("no dashboard with SPAWN_DASHBOARD_ADDR set")
	}
	get(t, nil, "http://"+sys.DashboardAddress().String()+"/", http.StatusOK)
}

// Sleeper deactivates soon after its last call.
type Sleeper struct {
	spawn.Actor `spawn:"name=sleeper,deactivate=100ms"`
	State       *testpb.CounterState `spawn:"state"`
}

func (s *Sleeper) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	s.State.Value += in.Delta
	return spawn.Reply(&testpb.Total{Value: s.State.Value}).Checkpoint(), nil
}

// TestInactiveActorNotWoken: the page shows the latest revision of an
// actor that is not active, read from the store, and does not activate it.
func TestInactiveActorNotWoken(t *testing.T) {
	sys, err := spawn.Start(ctx(t), &Sleeper{}, spawn.WithEmbedded(), spawn.WithMemoryStore(),
		spawn.WithDashboard("127.0.0.1:0"), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop(ctx(t))
	base := "http://" + sys.DashboardAddress().String()
	if err := sys.Invoke(ctx(t), "sleeper", "Add", &testpb.Add{Delta: 7}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(get(t, nil, base+"/actors/sleeper", http.StatusOK), "not active</span>") {
		if time.Now().After(deadline) {
			t.Fatal("the sleeper did not deactivate")
		}
		time.Sleep(50 * time.Millisecond)
	}
	page := get(t, nil, base+"/actors/sleeper", http.StatusOK)
	contains(t, page, "revision 1, the latest saved: the actor is not active", "&#34;value&#34;: &#34;7&#34;")
	if overview := get(t, nil, base+"/", http.StatusOK); !strings.Contains(overview, `<td class="n"><span class="muted">0</span></td>`) {
		t.Error("reading the page activated the sleeper")
	}
}
