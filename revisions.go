package spawn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
)

// Revisions of a stateful actor's state. Every save is a revision: the
// first is revision 1, and each later save is one more. On the embedded
// runtime a caller reads the revision with the state (StateRevision), lists
// the revisions kept (Revisions), reads one (StateAt) and restores one
// (Restore); an action reads its own (Context.Revision). The Spawn proxy
// keeps revisions too, but has no API to list or restore them: with a
// proxy these calls fail with CodeInvalid, wrapping errors.ErrUnsupported.

// RevisionInfo describes one saved revision of an actor's state.
type RevisionInfo struct {
	// Number is the revision's number: 1 for the first save.
	Number int64
	// SavedAt is when it was saved, by the runtime's clock; the zero time
	// when unknown.
	SavedAt time.Time
	// Size is the size of the encoded state, in bytes.
	Size int
}

// StateRevision reads an actor's current state into out, as State does,
// and returns the number of the latest revision saved of it; 0 when none
// has been saved yet. The state read may hold changes made since that
// revision and not saved yet: they are saved, as the next revision, at the
// next snapshot, at a checkpoint, or when the actor deactivates. The
// option Instance reads an instance of an unnamed actor.
//
// It needs the embedded runtime.
func (s *System) StateRevision(ctx context.Context, actor string, out proto.Message, opts ...RouteOption) (int64, error) {
	id, err := s.revisionTarget("StateRevision", actor, out, opts)
	if err != nil {
		return 0, err
	}
	cur, err := s.engine.CurrentState(ctx, id)
	if err != nil {
		return 0, backendError(ctx, id.GetName(), "", err)
	}
	if err := decodeState(id.GetName(), cur.State, out); err != nil {
		return 0, err
	}
	return cur.Revision, nil
}

// StateAt reads into out the state that revision number of an actor held.
// It reads what was saved and changes nothing; an unknown revision is
// CodeNotFound, and its message says which revisions are kept, and a
// revision below 1 is CodeInvalid. The option Instance reads an instance
// of an unnamed actor.
//
// It needs the embedded runtime.
func (s *System) StateAt(ctx context.Context, actor string, revision int64, out proto.Message, opts ...RouteOption) error {
	id, err := s.revisionTarget("StateAt", actor, out, opts)
	if err != nil {
		return err
	}
	if revision <= 0 {
		return &Error{Code: CodeInvalid, Actor: id.GetName(), Message: fmt.Sprintf("StateAt(%d): revisions are numbered from 1", revision)}
	}
	st, err := s.engine.StateAt(ctx, id, revision)
	if err != nil {
		return backendError(ctx, id.GetName(), "", err)
	}
	return decodeState(id.GetName(), st.GetState(), out)
}

// Revisions lists the revisions kept of an actor's state, oldest first:
// the embedded runtime keeps the last 100 by default (SPAWN_KEEP_REVISIONS
// changes it). Changes not saved yet are not listed (see StateRevision).
// The option Instance lists an instance of an unnamed actor's, even after
// the instance deactivated.
//
// It needs the embedded runtime.
func (s *System) Revisions(ctx context.Context, actor string, opts ...RouteOption) ([]RevisionInfo, error) {
	id, err := s.revisionTarget("Revisions", actor, nil, opts)
	if err != nil {
		return nil, err
	}
	list, err := s.engine.Revisions(ctx, id)
	if err != nil {
		return nil, backendError(ctx, id.GetName(), "", err)
	}
	out := make([]RevisionInfo, len(list))
	for i, r := range list {
		out[i] = RevisionInfo{Number: r.Revision, SavedAt: r.SavedAt, Size: r.Size}
	}
	return out, nil
}

// Restore makes an earlier revision of an actor's state its state again,
// at once. The state the actor held is saved first if it changed, then the
// revision's state and tags are saved as a new revision (so nothing in the
// history is lost, and Restore can be undone by restoring again), and the
// actor is activated again from it: its Init action runs, as at any
// activation. Calls made after Restore returns see the restored state.
// Restore waits for the calls queued on the actor before it.
//
// It works whether the actor is active or not, for named actors and, with
// the option Instance, for instances of unnamed ones. It fails and
// changes nothing for a revision that is not kept (CodeNotFound, saying
// which are), for a stateless actor (CodeProxy), and with CodeInvalid for
// a revision below 1.
//
// For the actors of this program, these calls about revisions fail with
// CodeInvalid when they name an unnamed actor without Instance (its
// instances have the state, it has none) or give Instance for a named or
// pooled actor, which has no instances.
//
// It needs the embedded runtime. With a Spawn proxy, an instance of an
// unnamed actor can start from a revision through Spawn with the option
// Revision, which takes effect when the instance activates.
func (s *System) Restore(ctx context.Context, actor string, revision int64, opts ...RouteOption) error {
	id, err := s.revisionTarget("Restore", actor, nil, opts)
	if err != nil {
		return err
	}
	if revision <= 0 {
		return &Error{Code: CodeInvalid, Actor: id.GetName(), Message: fmt.Sprintf("Restore(%d): revisions are numbered from 1", revision)}
	}
	if err := s.engine.Restore(ctx, id, revision); err != nil {
		return backendError(ctx, id.GetName(), "", err)
	}
	return nil
}

// enginehookOp is the op of revisionTarget for spawntest's helpers, which
// also ask about actors that have no state (Active, Tags), so the checks
// of the Instance option that only calls about state need are left out.
const enginehookOp = "spawntest"

// revisionTarget checks a call about revisions and returns the id of the
// actor it is about.
func (s *System) revisionTarget(op, actor string, out proto.Message, opts []RouteOption) (*protocol.ActorId, error) {
	if err := s.stoppedError(actor, ""); err != nil {
		return nil, err
	}
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && actor == "" {
		cfg.err = errors.New(op + " needs an actor")
	}
	if cfg.err == nil && out != nil && !out.ProtoReflect().IsValid() {
		cfg.err = fmt.Errorf("out is a nil %T; pass a message to read the state into", out)
	}
	if cfg.err == nil && op != enginehookOp {
		cfg.err = s.checkInstance(actor, cfg.instance, true)
	}
	if cfg.err != nil {
		return nil, &Error{Code: CodeInvalid, Actor: actor, Message: cfg.err.Error()}
	}
	id := &protocol.ActorId{Name: actor, System: s.cfg.system}
	if cfg.instance != "" {
		id.Name, id.Parent = cfg.instance, actor
	}
	if s.engine == nil {
		return nil, &Error{Code: CodeInvalid, Actor: id.Name, cause: errors.ErrUnsupported,
			Message: op + " needs the embedded runtime: the Spawn proxy has no API to read, list or restore revisions" +
				" (an instance of an unnamed actor can start from a revision through Spawn with the option Revision)"}
	}
	return id, nil
}

// checkInstance checks the Instance option given (instance, or "") for a
// call to actor, when this program defines actor: a named or pooled actor
// has no instances, and, when needInstance, an unnamed one has no state of
// its own, so a call about state must name an instance.
func (s *System) checkInstance(actor, instance string, needInstance bool) error {
	if s.host == nil {
		return nil
	}
	d := s.host.table.Lookup(&protocol.ActorId{Name: actor})
	switch {
	case d == nil:
		return nil // served elsewhere: its proxy knows
	case instance != "" && d.Kind != registry.Unnamed:
		return fmt.Errorf("actor %q is %s, so no instance is needed: drop spawn.Instance(%q)", actor, d.Kind, instance)
	case instance == "" && needInstance && d.Kind == registry.Unnamed:
		return fmt.Errorf("actor %q is unnamed: its instances have the state and its revisions; pass spawn.Instance(\"id\")", actor)
	}
	return nil
}

// decodeState decodes st, an actor's state, into out; out is left as it is
// when there is no state.
func decodeState(actor string, st *anypb.Any, out proto.Message) error {
	if st.GetTypeUrl() == "" && len(st.GetValue()) == 0 {
		return nil
	}
	if want := protocol.TypeURL(out.ProtoReflect().Descriptor().FullName()); st.GetTypeUrl() != want {
		return &Error{Code: CodeInvalid, Actor: actor, Message: fmt.Sprintf("the state is %s, but out is %s", st.GetTypeUrl(), want)}
	}
	if err := proto.Unmarshal(st.GetValue(), out); err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Message: "decoding the state: " + err.Error(), cause: err}
	}
	return nil
}
