package spawn

// Actor marks a struct as a Spawn actor. Embed it by value and put the
// actor's settings in its tag:
//
//	type Joe struct {
//		spawn.Actor `spawn:"name=joe,stateful,channel=test,timer=1000"`
//		State *domain.JoeState `spawn:"state"`
//	}
//
// Actor has no methods, so embedding it adds nothing to the user's type.
// The package documentation lists every setting.
type Actor struct{}

// Action configures one action method through the tag of a blank field:
//
//	_ spawn.Action `spawn:"method=Hi,name=hi,timer=5s"`
//
// method names the Go method; name renames the action on the wire; timer
// sets the period of a timer action (a method that takes Tick).
type Action struct{}

// Tick is the input of a timer action: a method that takes a Tick runs
// every period set by `timer=`.
type Tick struct{}

// ActorID names one actor instance.
type ActorID struct {
	// Name is the actor's name: its registered name, or for an instance
	// of an unnamed actor, the name it was spawned with.
	Name string
	// System is the actor system it lives in.
	System string
	// Parent is, for an instance of an unnamed actor, the actor it was
	// spawned from; empty otherwise.
	Parent string
}

// String returns "system/name", with "(from parent)" for spawned instances.
func (id ActorID) String() string {
	if id.IsZero() {
		return "(no actor)"
	}
	s := id.System + "/" + id.Name
	if id.Parent != "" {
		s += " (from " + id.Parent + ")"
	}
	return s
}

// IsZero reports whether id names no actor, as the caller of an
// invocation made from outside any actor.
func (id ActorID) IsZero() bool { return id == ActorID{} }
