//go:build unix

package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
)

// Gate holds each call to Hold until the test opens it, and counts the
// calls it applied.
type Gate struct {
	spawn.Actor `spawn:"name=gate"`
	State       *wrapperspb.Int64Value `spawn:"state"`
	// Ctl is shared by every copy of the actor: the test's handle.
	Ctl *gateCtl
}

type gateCtl struct {
	entered chan struct{} // a call to Hold has started

	mu     sync.Mutex
	opened chan struct{} // closed: Hold returns
}

func newGateCtl() *gateCtl {
	return &gateCtl{entered: make(chan struct{}, 64), opened: make(chan struct{})}
}

func (c *gateCtl) openCh() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// open lets the calls through until shut.
func (c *gateCtl) open() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.opened)
}

// shut holds the next calls, and forgets the starts of the earlier ones.
func (c *gateCtl) shut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened = make(chan struct{})
	for len(c.entered) > 0 {
		<-c.entered
	}
}

// Hold waits for the gate to open, then counts the call. Its input is
// only there to weigh.
func (g *Gate) Hold(ctx *spawn.Context, in *wrapperspb.BytesValue) (*wrapperspb.Int64Value, error) {
	g.Ctl.entered <- struct{}{}
	select {
	case <-g.Ctl.openCh():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.State.Value++
	return wrapperspb.Int64(g.State.Value), nil
}

// Bounds of the test: a payload of boundPayload bytes fits twice in the
// byte bounds, not three times.
const (
	boundMailbox = 2
	boundPayload = 10_000
	boundBytes   = 25_000
)

// TestReliabilityBoundsAnswered hits each bound on purpose (docs/
// reliability.md, "Memory is bounded"): the mailbox, the async bytes, the
// request bodies held by spawn proxy, and those held by the host. Each is
// answered spawn.CodeOverloaded with a message that starts "overloaded: "
// and names the bound, before anything ran; meanwhile other actors are
// served, and afterwards the same calls succeed, the refused ones were
// not applied, and no other actor's state changed. On the embedded
// runtime, and through spawn proxy (run in this process, with the host).
func TestReliabilityBoundsAnswered(t *testing.T) {
	for _, backend := range []string{"embedded", "proxy"} {
		t.Run(backend, func(t *testing.T) {
			ctl := newGateCtl()
			t.Setenv("SPAWN_MAX_MAILBOX", "2")
			t.Setenv("SPAWN_MAX_ASYNC_BYTES", "25000")
			t.Setenv("SPAWN_MAX_INFLIGHT_BYTES", "25000") // the host endpoint's
			var sys *spawn.System
			if backend == "embedded" {
				sys = startSystem(t, &Gate{Ctl: ctl}, &Ledger{}, spawn.WithEmbedded(), spawn.WithDataDir(t.TempDir()))
			} else {
				hostAddr := freeLoopbackAddr(t)
				proxy := runProxyInProcess(t, hostAddr, "-max-mailbox", "2", "-max-async-bytes", "25000", "-max-inflight-bytes", "25000")
				sys = startSystem(t, &Gate{Ctl: ctl}, &Ledger{}, spawn.WithProxy(proxy), spawn.WithHostAddress(hostAddr))
			}
			b := &boundsRun{t: t, sys: sys, ctl: ctl, bystander: newLedgerLoad(1, "Apply")}
			b.bystander.prefix = "bystander-"

			b.hit("mailbox", "mailbox", func() int {
				// One running, boundMailbox waiting: the next is refused.
				b.async(1)
				<-ctl.entered
				for range boundMailbox {
					b.async(1)
				}
				return 3
			}, func() error { return b.hold(1, spawn.Async()) })

			b.hit("async bytes", "bytes", func() int {
				b.async(boundPayload)
				<-ctl.entered
				b.async(boundPayload)
				return 2
			}, func() error { return b.hold(boundPayload, spawn.Async()) })

			if backend == "embedded" {
				return // no HTTP: no request bodies
			}
			// A sync call holds its request body in the proxy until the
			// action returns: the next large body does not fit beside it.
			held := make(chan error, 1)
			b.hit("request bodies held by spawn proxy", "request bodies", func() int {
				go func() { held <- b.hold(2 * boundPayload) }()
				<-ctl.entered
				return 1
			}, func() error { return b.hold(boundPayload) })
			if err := <-held; err != nil {
				t.Fatalf("the call holding the bodies: %v", err)
			}
			// An async call's body leaves the proxy once queued, but its
			// invocation stays in the host while the action runs: the
			// bystander's large invocation does not fit beside it there.
			b.hit("request bodies held by the host", "the host refused", func() int {
				b.async(2 * boundPayload)
				<-ctl.entered
				return 1
			}, func() error { return b.call(boundPayload) })
		})
	}
}

// boundsRun is one backend's run of TestReliabilityBoundsAnswered.
type boundsRun struct {
	t         *testing.T
	sys       *spawn.System
	ctl       *gateCtl
	bystander *ledgerLoad
	applied   int64 // Holds applied so far
}

// hit fills a bound with fill, which returns how many Holds it started
// (all of them eventually applied) after waiting for the first to enter
// the action, then checks that refused is refused
// as overloaded with a message naming the bound, that the bystander is
// served meanwhile, and, once the gate opens, that everything accepted
// ran, nothing refused did, and the gate serves again.
func (b *boundsRun) hit(name, names string, fill func() int, refused func() error) {
	t := b.t
	b.ctl.shut()
	accepted := fill()
	err := refused()
	var se *spawn.Error
	switch {
	case !errors.As(err, &se):
		t.Fatalf("%s: past the bound: %v, want a *spawn.Error", name, err)
	case se.Code != spawn.CodeOverloaded || !se.Code.Retryable():
		t.Errorf("%s: past the bound: code %v (%v), want %v", name, se.Code, err, spawn.CodeOverloaded)
	case !strings.HasPrefix(se.Message, "overloaded: ") || !strings.Contains(se.Message, names):
		t.Errorf("%s: past the bound: message %q, want it to start %q and name %q", name, se.Message, "overloaded: ", names)
	}
	// Other actors are served meanwhile.
	if err := b.call(0); err != nil {
		t.Errorf("%s: a bystander while the bound is hit: %v", name, err)
	}
	b.ctl.open()
	// The gate serves again, and its count says what ran: every accepted
	// Hold, and not the refused one. Once the last accepted Hold has
	// started (fill saw the first start), the mailbox has room, and a read
	// queues behind the calls.
	for range accepted - 1 {
		<-b.ctl.entered
	}
	b.applied += int64(accepted)
	var st wrapperspb.Int64Value
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.sys.State(ctx, "gate", &st); err != nil {
		t.Fatalf("%s: the gate after the bound: %v", name, err)
	}
	if st.Value != b.applied {
		t.Errorf("%s: the gate applied %d calls, want %d: the refused call ran, or an accepted one was lost", name, st.Value, b.applied)
	}
	if err := b.hold(1); err != nil {
		t.Errorf("%s: the gate after the bound: %v", name, err)
	}
	b.applied++
	f := b.bystander.check(t, readLedger(b.sys))
	t.Logf("%s: refused as %v (%q); meanwhile and after, %d bystander calls applied once each, nothing else", name, se.Code, se.Message, f.acked)
}

// hold calls the gate's Hold with a payload of n bytes.
func (b *boundsRun) hold(n int, opts ...spawn.InvokeOption) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return b.sys.Invoke(ctx, "gate", "Hold", wrapperspb.Bytes(make([]byte, n)), &wrapperspb.Int64Value{}, opts...)
}

// async makes an async Hold that must be accepted.
func (b *boundsRun) async(n int) {
	b.t.Helper()
	if err := b.hold(n, spawn.Async()); err != nil {
		b.t.Fatalf("an async call within the bounds: %v", err)
	}
}

// call makes the bystander's next call, weighing n bytes more (in its
// metadata) than it would.
func (b *boundsRun) call(n int) error {
	id := b.bystander.next.Add(1) - 1
	actor, slot := b.bystander.place(id)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err := b.sys.Invoke(ctx, "ledger", "Apply", wrapperspb.Int64(slot), &wrapperspb.Int64Value{},
		spawn.Instance(actor), spawn.WithMetadata("padding", strings.Repeat("x", n)))
	b.bystander.record(id, err, 0)
	return err
}
