package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	goruntime "runtime"
	"slices"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/version"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// proxyName is the proxy identity announced to hosts, beside the protocol
// version the real proxy announces, so that hosts treat the engine as that
// proxy; its version is the spawn-go module's (version.Module).
const proxyName = "spawn-go"

// definition is a registered actor, checked and pre-digested once at
// registration. It is immutable: re-registering replaces it, and activated
// instances keep the definition they were activated with.
type definition struct {
	actor *protocol.Actor // private copy of what was registered
	key   actorKey

	stateful bool
	// discardState: a stateless actor registered without Actor.state keeps
	// no state at all; whatever the host returns is dropped, as the real
	// proxy does.
	discardState bool
	eager        bool

	actions      map[string]struct{} // actions and timer actions
	overridesGet bool                // the host answers the get built-ins itself
	initAction   string              // "" when none

	timers        []timerSpec    // no duplicates
	channels      []subscription // no duplicates
	snapshotEvery time.Duration  // 0: no periodic snapshots
	idleAfter     time.Duration  // 0: never deactivate

	poolMin, poolMax int // 0, 1 unless POOLED
}

type timerSpec struct {
	action string
	period time.Duration
}

type subscription struct {
	topic, action string
}

func (d *definition) id() *protocol.ActorId { return d.actor.GetId() }

// accepts reports whether action may be invoked on d.
func (d *definition) accepts(action string) bool {
	if _, ok := d.actions[action]; ok {
		return true
	}
	return slices.Contains(protocol.GetActions, action)
}

// builtinGet reports whether the engine answers action itself.
func (d *definition) builtinGet(action string) bool {
	return !d.overridesGet && slices.Contains(protocol.GetActions, action)
}

// newDefinition checks a (private copy of a) registered actor. Its errors
// name the actor and the fix, because the real proxy would accept most of
// these and then misbehave (busy loops, crashes) at run time.
func newDefinition(a *protocol.Actor) (*definition, error) {
	d, err := baseDefinition(a)
	if err != nil {
		return nil, err
	}
	// Each step reads one group of settings; the first error wins.
	for _, step := range []func(*definition) error{
		(*definition).readPool,
		(*definition).readTimeouts,
		(*definition).readActions,
		(*definition).readTimers,
		(*definition).readChannels,
	} {
		if err := step(d); err != nil {
			return nil, err
		}
	}
	d.overridesGet = slices.ContainsFunc(protocol.GetActions, func(n string) bool {
		_, ok := d.actions[n]
		return ok
	})
	return d, nil
}

// baseDefinition checks a's id and settings, which every other step needs,
// and decides what follows from the kind and statefulness alone.
func baseDefinition(a *protocol.Actor) (*definition, error) {
	id := a.GetId()
	name := id.GetName()
	if name == "" {
		return nil, fmt.Errorf("an actor has no id.name")
	}
	if id.GetSystem() == "" {
		return nil, fmt.Errorf("actor %q: id.system is empty; set it to the actor system's name", name)
	}
	s := a.GetSettings()
	if s == nil {
		return nil, fmt.Errorf("actor %q has no settings", name)
	}
	kind := s.GetKind()
	return &definition{
		actor:        a,
		key:          actorKey{name: name, system: id.GetSystem()},
		stateful:     s.GetStateful(),
		discardState: !s.GetStateful() && a.GetState() == nil,
		eager: s.GetStateful() && a.GetMetadata() != nil &&
			kind != protocol.Kind_UNNAMED && kind != protocol.Kind_POOLED,
		actions: make(map[string]struct{}, len(a.GetActions())+len(a.GetTimerActions())),
		poolMax: 1,
	}, nil
}

// readPool sizes the pool of a POOLED actor; other kinds keep one instance.
func (d *definition) readPool() error {
	s := d.actor.GetSettings()
	if s.GetKind() != protocol.Kind_POOLED {
		return nil
	}
	if d.stateful {
		return fmt.Errorf("actor %q: a POOLED actor must be stateless", d.key.name)
	}
	d.poolMax = int(s.GetMaxPoolSize())
	if d.poolMax <= 0 {
		d.poolMax = 2 * goruntime.NumCPU()
	}
	d.poolMin = min(max(int(s.GetMinPoolSize()), 0), d.poolMax)
	return nil
}

// timeoutSettings are the settings given as a TimeoutStrategy: each may be
// absent, but a present one needs a positive timeout.
var timeoutSettings = []struct {
	field string
	hint  string // appended to the error
	// timeout reports whether the strategy is present, and its timeout.
	timeout func(*protocol.ActorSettings) (bool, int64)
	apply   func(*definition, time.Duration)
}{
	{
		field: "snapshot_strategy",
		timeout: func(s *protocol.ActorSettings) (bool, int64) {
			st := s.GetSnapshotStrategy()
			return st != nil, st.GetTimeout().GetTimeout()
		},
		apply: func(d *definition, t time.Duration) {
			// Only stateful actors have state worth saving.
			if d.stateful {
				d.snapshotEvery = t
			}
		},
	},
	{
		field: "deactivation_strategy",
		hint:  " (omit the strategy to never deactivate)",
		timeout: func(s *protocol.ActorSettings) (bool, int64) {
			st := s.GetDeactivationStrategy()
			return st != nil, st.GetTimeout().GetTimeout()
		},
		apply: func(d *definition, t time.Duration) { d.idleAfter = t },
	},
}

// readTimeouts reads the snapshot and deactivation timeouts.
func (d *definition) readTimeouts() error {
	for _, ts := range timeoutSettings {
		present, t := ts.timeout(d.actor.GetSettings())
		if !present {
			continue
		}
		if t <= 0 {
			return fmt.Errorf("actor %q: %s.timeout must be a positive number of milliseconds, got %d%s", d.key.name, ts.field, t, ts.hint)
		}
		ts.apply(d, ms(t))
	}
	return nil
}

// readActions records the actions and picks the first init action.
func (d *definition) readActions() error {
	for _, act := range d.actor.GetActions() {
		n := act.GetName()
		if n == "" {
			return fmt.Errorf("actor %q has an action with no name", d.key.name)
		}
		d.actions[n] = struct{}{}
		if d.initAction == "" && slices.Contains(protocol.InitActions, n) {
			d.initAction = n
		}
	}
	return nil
}

// readTimers records the timer actions, which may also be invoked like any
// other action, and their periods.
func (d *definition) readTimers() error {
	for _, t := range d.actor.GetTimerActions() {
		n := t.GetAction().GetName()
		if n == "" {
			return fmt.Errorf("actor %q has a timer action with no name", d.key.name)
		}
		if t.GetSeconds() <= 0 {
			return fmt.Errorf("actor %q: timer action %q has period %d; it must be a positive number of milliseconds (FixedTimerAction.seconds is in ms)", d.key.name, n, t.GetSeconds())
		}
		d.actions[n] = struct{}{}
		if ts := (timerSpec{action: n, period: ms(t.GetSeconds())}); !slices.Contains(d.timers, ts) {
			d.timers = append(d.timers, ts)
		}
	}
	return nil
}

// readChannels records the subscriptions. A channel that names no action
// invokes receive, so the two spellings are one subscription.
func (d *definition) readChannels() error {
	for _, ch := range d.actor.GetMetadata().GetChannelGroup() {
		if ch.GetTopic() == "" {
			return fmt.Errorf("actor %q subscribes to a channel with no topic", d.key.name)
		}
		act := ch.GetAction()
		if act == "" {
			act = protocol.ReceiveAction
		}
		if s := (subscription{topic: ch.GetTopic(), action: act}); !slices.Contains(d.channels, s) {
			d.channels = append(d.channels, s)
		}
	}
	return nil
}

// spawnable reports why d cannot be spawned from, or "" when it can: only
// UNNAMED actors are templates, as in the real proxy.
func (d *definition) spawnable() string {
	if k := d.actor.GetSettings().GetKind(); k != protocol.Kind_UNNAMED {
		return fmt.Sprintf("actor %q is %v, and only UNNAMED actors can be spawned from", d.key.name, k)
	}
	return ""
}

// Register adds or replaces the actors of req, all or none. Activated actors
// keep running with their old definition until they deactivate. Stateful
// actors that carry metadata and are neither UNNAMED nor POOLED are then
// activated in the background, as the real proxy does, and subscribed to
// their channels before Register returns; the rest activate, and
// subscribe, on their first invocation.
func (e *Engine) Register(ctx context.Context, req *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
	if !e.enter() {
		return nil, errClosed
	}
	defer e.wg.Done()
	defs, err := registeredDefinitions(req)
	if err != nil {
		return nil, err
	}
	eager := e.install(defs)
	e.log.Info("actors registered", zap.Int("actors", len(defs)), zap.String("service", req.GetServiceInfo().GetServiceName()))
	if e.obs.Registered != nil {
		ev := Registration{Service: req.GetServiceInfo().GetServiceName(), At: e.clock.Now()}
		for _, d := range defs {
			ev.Actors = append(ev.Actors, refOf(d.id()))
		}
		e.obs.Registered(ev)
	}
	e.activateInBackground(eager)
	e.retryParked()
	return &protocol.RegistrationResponse{
		Status: okStatus("Accepted"),
		ProxyInfo: &protocol.ProxyInfo{
			ProtocolMajorVersion: protocol.MajorVersion,
			ProtocolMinorVersion: protocol.MinorVersion,
			ProxyName:            proxyName,
			ProxyVersion:         version.Module(),
		},
	}, nil
}

// registeredDefinitions checks every actor of req, in the order of their
// registry keys: map order is random, and sorting makes eager activation
// and errors reproducible.
func registeredDefinitions(req *protocol.RegistrationRequest) ([]*definition, error) {
	if req.GetServiceInfo() == nil {
		return nil, errorf("registration has no service_info")
	}
	reg := req.GetActorSystem().GetRegistry()
	if reg == nil {
		return nil, errorf("registration has no actor_system.registry")
	}
	keys := slices.Sorted(maps.Keys(reg.GetActors()))
	defs := make([]*definition, 0, len(keys))
	entries := make(map[actorKey]string, len(keys)) // the entry defining each actor
	for _, k := range keys {
		a := reg.GetActors()[k]
		if a == nil {
			return nil, errorf("registry entry %q holds no actor", k)
		}
		d, err := newDefinition(proto.CloneOf(a))
		if err != nil {
			return nil, errorf("invalid registration: %v", err)
		}
		// Which of two definitions of one actor would stand is anybody's
		// guess: refuse them.
		if first, dup := entries[d.key]; dup {
			return nil, errorf("invalid registration: actor %q is registered twice, by registry entries %q and %q; register each actor once",
				d.key.name, first, k)
		}
		entries[d.key] = k
		defs = append(defs, d)
	}
	return defs, nil
}

// install makes defs the registered definitions, and returns the keys of
// those to activate at once.
func (e *Engine) install(defs []*definition) (eager []actorKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range defs {
		e.defs[d.key] = d
		// A registered actor takes the place of an instance spawned under
		// its name, spawn options included, as in the real proxy, which
		// replaces the whole entry.
		delete(e.instances, d.key)
		if d.eager {
			eager = append(eager, d.key)
			// Subscribed now rather than when the background activation
			// gets to it, so that a broadcast published as soon as
			// Register returns reaches the actor (and activates it). An
			// actor subscribed before keeps its subscriptions until its
			// next activation, as after any re-registration.
			if _, subscribed := e.subscribed[d.key]; !subscribed {
				e.subscribeLocked(d.key, d.id(), d)
			}
		}
	}
	e.registered = true
	e.registryChangedLocked()
	return eager
}

// registryChangedLocked counts a change to the registry and wakes the
// invocations waiting for one.
func (e *Engine) registryChangedLocked() {
	e.registryGen++
	close(e.regChanged)
	e.regChanged = make(chan struct{})
}

// activateInBackground activates the actors of keys, one after the other,
// without making the caller wait.
func (e *Engine) activateInBackground(keys []actorKey) {
	if len(keys) == 0 {
		return
	}
	e.goTracked(func() {
		for _, k := range keys {
			if err := e.deliver(k, &message{kind: msgActivate, ctx: e.base}); errors.Is(err, errClosed) {
				return // closed right after registering: nothing to activate for
			} else if err != nil {
				e.log.Warn("eager activation failed", zap.Stringer("actor", k), zap.Error(err))
			}
		}
	})
}

// Spawn registers instances of UNNAMED templates, all or none: each
// ActorId{name, system, parent} becomes an instance of the template
// registered as (parent, system), sharing its definition. Nothing is
// activated.
//
// A revision > 0 of a stateful template's instances is restored at the
// instance's next activation; an instance that is active now is restored
// at once, as by Restore. A revision that is not stored for an instance
// refuses the whole request (ACTOR_NOT_FOUND, saying which revisions are
// kept) before anything changes.
//
// A spawn never takes the place of a registered actor, nor of an instance
// of another template: such a request is refused and changes nothing.
// Spawning an instance again from its own template replaces its spawn
// options (the revision).
func (e *Engine) Spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) (*protocol.SpawnResponse, error) {
	if !e.enter() {
		return nil, errClosed
	}
	defer e.wg.Done()
	if revision < 0 {
		return nil, errorf("spawn: revision %d is negative", revision)
	}
	restore, err := e.revisionsToRestore(ctx, req.GetActors(), revision)
	if err != nil {
		return nil, err
	}
	if err := e.spawnAll(req.GetActors(), revision); err != nil {
		return nil, err
	}
	e.retryParked()
	for _, key := range restore {
		e.mu.Lock()
		active := e.cells[key] != nil
		e.mu.Unlock()
		if !active {
			continue // restored at its activation
		}
		if err := e.restoreNow(ctx, key, &restoreSpec{revision: revision}); err != nil {
			return nil, prefixed(err, fmt.Sprintf("spawn %q: the instance is active, and restoring revision %d failed: ", key.name, revision))
		}
	}
	return &protocol.SpawnResponse{Status: okStatus("Accepted")}, nil
}

// revisionsToRestore checks that revision is stored for each of ids that
// is an instance of a stateful template, and returns their keys; none when
// revision is 0.
func (e *Engine) revisionsToRestore(ctx context.Context, ids []*protocol.ActorId, revision int64) ([]actorKey, error) {
	if revision == 0 {
		return nil, nil
	}
	var keys []actorKey
	for _, id := range ids {
		t := storeTarget{key: actorKey{name: id.GetName(), system: id.GetSystem()},
			store: state.Key{System: id.GetSystem(), Name: id.GetName(), Parent: id.GetParent()}}
		e.mu.Lock()
		tmpl, err := e.templateLocked(id)
		if err == nil {
			// Refused for what it is before its revision is looked for.
			err = e.spawnableLocked(t.key, tmpl)
		}
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if !tmpl.stateful {
			continue
		}
		if _, err := e.loadRevision(ctx, t, revision); err != nil {
			return nil, prefixed(err, fmt.Sprintf("spawn %q: ", id.GetName()))
		}
		keys = append(keys, t.key)
	}
	return keys, nil
}

// spawnAll checks every id, then spawns them all, or none.
func (e *Engine) spawnAll(ids []*protocol.ActorId, revision int64) error {
	keys := make([]actorKey, len(ids))
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, id := range ids {
		tmpl, err := e.templateLocked(id)
		if err != nil {
			return err
		}
		keys[i] = actorKey{name: id.GetName(), system: id.GetSystem()}
		if err := e.spawnableLocked(keys[i], tmpl); err != nil {
			return err
		}
	}
	// Within one request too, a name has one parent.
	parents := make(map[actorKey]string, len(ids))
	for i, id := range ids {
		if p, ok := parents[keys[i]]; ok && p != id.GetParent() {
			return errorf("spawn %q: the request spawns it from both %q and %q", id.GetName(), p, id.GetParent())
		}
		parents[keys[i]] = id.GetParent()
	}
	now := e.clock.Now()
	for i, id := range ids {
		tmpl := e.defs[actorKey{name: id.GetParent(), system: id.GetSystem()}]
		rev := int64(0)
		// Only stateful instances restore a revision, at activation.
		if tmpl.stateful {
			rev = revision
		}
		e.instances[keys[i]] = &spawned{parent: tmpl.key.name, revision: rev, since: now}
		e.armSweepLocked(tmpl, now)
	}
	e.registryChangedLocked()
	return nil
}

// templateLocked returns the template that id asks to be spawned from.
func (e *Engine) templateLocked(id *protocol.ActorId) (*definition, error) {
	if id.GetName() == "" || id.GetSystem() == "" || id.GetParent() == "" {
		return nil, errorf("spawn: actor id %v needs a name, a system and a parent", id)
	}
	tmpl := e.defs[actorKey{name: id.GetParent(), system: id.GetSystem()}]
	if tmpl == nil {
		return nil, notFoundf("spawn %q: parent actor %q not found in system %q", id.GetName(), id.GetParent(), id.GetSystem())
	}
	if why := tmpl.spawnable(); why != "" {
		return nil, errorf("spawn %q: %s", id.GetName(), why)
	}
	return tmpl, nil
}

// spawnableLocked refuses to spawn key from tmpl where that would take the
// place of another actor: a registered one, or an instance of another
// template. Either would change which actor, and which stored state, the
// name stands for.
func (e *Engine) spawnableLocked(key actorKey, tmpl *definition) error {
	if _, ok := e.defs[key]; ok {
		return errorf("spawn %q from %q: a registered actor has that name, and a spawn never replaces one; choose another instance name", key.name, tmpl.key.name)
	}
	if cur := e.instances[key]; cur != nil && cur.parent != tmpl.key.name {
		return errorf("spawn %q from %q: it is already an instance of %q; choose another instance name", key.name, tmpl.key.name, cur.parent)
	}
	return nil
}

// spawnRef spawns key from parent for an invocation's register_ref. Unlike
// Spawn it keeps an instance already spawned from the same template as it
// is, so that a revision given to an earlier Spawn is not lost. Like
// Spawn, it never takes the place of another actor.
func (e *Engine) spawnRef(key actorKey, parent string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.spawnRefLocked(key, parent)
}

func (e *Engine) spawnRefLocked(key actorKey, parent string) error {
	if s := e.instances[key]; s != nil && s.parent == parent && e.defs[key] == nil {
		// Already spawned from parent: only the template needs checking,
		// as templateLocked would, without building an id for it.
		if tmpl := e.defs[actorKey{name: parent, system: key.system}]; tmpl != nil && tmpl.spawnable() == "" {
			return nil
		}
	}
	id := &protocol.ActorId{Name: key.name, System: key.system, Parent: parent}
	tmpl, err := e.templateLocked(id)
	if err != nil {
		return err
	}
	if err := e.spawnableLocked(key, tmpl); err != nil {
		return err
	}
	if e.instances[key] == nil {
		now := e.clock.Now()
		e.instances[key] = &spawned{parent: parent, since: now}
		e.armSweepLocked(tmpl, now)
	}
	return nil
}

// target is what a registry key stands for: the definition to activate it
// with, and its id.
type target struct {
	def *definition
	id  *protocol.ActorId
	// instance: a spawned instance, which shares its template's definition
	// and is forgotten when it deactivates.
	instance bool
}

// lookupLocked returns what key stands for: a registered actor, or an
// instance spawned from a template that is still registered and UNNAMED.
func (e *Engine) lookupLocked(key actorKey) (target, error) {
	if d := e.defs[key]; d != nil {
		return target{def: d, id: d.id()}, nil
	}
	s := e.instances[key]
	if s == nil {
		return target{}, notFoundf("actor %q not found in system %q", key.name, key.system)
	}
	tmpl := e.defs[actorKey{name: s.parent, system: key.system}]
	if tmpl == nil {
		return target{}, notFoundf("actor %q: its template %q is no longer registered in system %q", key.name, s.parent, key.system)
	}
	if why := tmpl.spawnable(); why != "" {
		return target{}, errorf("actor %q is an instance of %q, but %s", key.name, s.parent, why)
	}
	return target{def: tmpl, id: &protocol.ActorId{Name: key.name, System: key.system, Parent: s.parent}, instance: true}, nil
}

// definition returns the definition that key is activated with.
func (e *Engine) definition(key actorKey) (*definition, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.definitionLocked(key)
}

// definitionLocked is definition with e.mu held. For an instance it is
// lookupLocked without the id, which it would allocate on every call.
func (e *Engine) definitionLocked(key actorKey) (*definition, error) {
	if d := e.defs[key]; d != nil {
		return d, nil
	}
	if s := e.instances[key]; s != nil {
		if tmpl := e.defs[actorKey{name: s.parent, system: key.system}]; tmpl != nil && tmpl.spawnable() == "" {
			return tmpl, nil
		}
	}
	t, err := e.lookupLocked(key) // the errors, as lookupLocked words them
	return t.def, err
}
