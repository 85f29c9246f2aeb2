package spawn

import (
	"context"
	"maps"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// Context is what an action gets first. It is a context.Context (the
// invocation's: it ends when the caller gives up or the host stops), and
// it says who is running, who called, with what metadata, and lets the
// action invoke other actors as itself.
//
// A Context is valid only during the action that received it.
type Context struct {
	ctx context.Context
	inv *protocol.ActorInvocation
	sys *System
}

// Deadline implements context.Context.
func (c *Context) Deadline() (time.Time, bool) { return c.ctx.Deadline() }

// Done implements context.Context.
func (c *Context) Done() <-chan struct{} { return c.ctx.Done() }

// Err implements context.Context.
func (c *Context) Err() error { return c.ctx.Err() }

// Value implements context.Context.
func (c *Context) Value(key any) any { return c.ctx.Value(key) }

// Self is the actor running the action.
func (c *Context) Self() ActorID { return toID(c.inv.GetActor()) }

// Caller is the actor that made the call; zero (see ActorID.IsZero) for
// calls from outside any actor.
func (c *Context) Caller() ActorID { return toID(c.inv.GetCaller()) }

// Metadata returns a copy of the call's metadata.
func (c *Context) Metadata() map[string]string {
	return maps.Clone(c.inv.GetCurrentContext().GetMetadata())
}

// Tags returns a copy of the actor's tags as they were when the action
// started. Changing the copy changes nothing: change tags with Value.Tag
// and Value.ReplaceTags.
func (c *Context) Tags() map[string]string {
	// A copy, because the embedded runtime hands the actor's own map to
	// the action and takes it back as the tags to keep.
	return maps.Clone(c.inv.GetCurrentContext().GetTags())
}

// Revision is the number of the latest revision saved of the actor's
// state when the action began: 0 before the first save, 1 after it, one
// more at each save after. The state the action sees is that revision,
// with the changes made since and not saved yet (see Value.Checkpoint). It
// is 0 for stateless actors, and always with a Spawn proxy, which does not
// tell.
func (c *Context) Revision() int64 {
	rev, _ := runtime.InvocationRevision(c.ctx)
	return rev
}

// Invoke calls action on actor as the running actor, which the callee sees
// as its Caller, within this Context: it ends when the action's call does.
// It takes the options of System.Invoke; to bound one call more tightly,
// use Call with a context of its own.
//
// A sync call to the running actor itself would wait for the actor to be
// free, which it is not until this action returns: it fails at once with
// CodeInvalid. Call yourself with Async (or Delay), or act directly.
func (c *Context) Invoke(actor, action string, in, out proto.Message, opts ...InvokeOption) error {
	return c.callActor(c, actor, action, in, out, opts)
}

func (c *Context) callActor(ctx context.Context, actor, action string, in, out proto.Message, opts []InvokeOption) error {
	return c.sys.invoke(ctx, c.inv.GetActor(), actor, action, in, out, opts)
}

// Spawn creates an instance of an unnamed actor, as System.Spawn does.
func (c *Context) Spawn(actor, instance string, opts ...SpawnOption) error {
	return c.sys.Spawn(c, actor, instance, opts...)
}

func toID(id *protocol.ActorId) ActorID {
	return ActorID{Name: id.GetName(), System: id.GetSystem(), Parent: id.GetParent()}
}
