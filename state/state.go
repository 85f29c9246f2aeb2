// Package state keeps actor state for the embedded runtime: the latest
// snapshot of every actor instance, every revision saved before it, and the
// delayed invocations that must survive a restart.
//
// Two stores implement Store: an in-memory one for tests (NewMemory) and a
// durable on-disk one (Open). The SDK picks the store for you; this package
// is for the runtime and for tests that want to inspect what was saved.
//
// The on-disk store lives in DefaultDir unless told otherwise, and encrypts
// the state data at rest when given the key that KeyFromEnv reads from
// SPAWN_STATESTORE_KEY, as the real proxy does.
package state

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a store holds no record for the key or revision asked for.
var ErrNotFound = errors.New("state: not found")

// ErrClosed is returned by every method of a store after its Close.
var ErrClosed = errors.New("state: store is closed")

// Key identifies one actor instance. It mirrors the protocol's ActorId: two
// instances spawned from different parents are different actors.
type Key struct {
	System string
	Name   string
	Parent string
}

// String returns the key for messages: "system/name", followed by the
// parent when there is one.
func (k Key) String() string {
	if k.Parent == "" {
		return k.System + "/" + k.Name
	}
	return k.System + "/" + k.Name + " (parent " + k.Parent + ")"
}

// Record is one saved snapshot of an actor's state.
type Record struct {
	// Revision numbers snapshots of one actor; a save keeps every earlier one.
	Revision int64
	// TypeURL and Data are the state as a google.protobuf.Any.
	TypeURL string
	Data    []byte
	// Tags are the actor's tags at the time of the snapshot.
	Tags map[string]string
	// SavedAt is when the record was written. Save keeps the time it is
	// given (the runtime gives its clock's), or sets the current time when
	// it is zero. A record read back with a zero SavedAt was written
	// without one: its time is unknown.
	SavedAt time.Time
}

// RevisionInfo describes one stored revision of an actor's state, without
// the state itself.
type RevisionInfo struct {
	// Revision is the revision's number.
	Revision int64
	// SavedAt is when it was written; the zero time when unknown.
	SavedAt time.Time
	// Size is the size of the state's bytes (Record.Data), unencrypted.
	Size int
}

// Scheduled is a delayed invocation waiting for its time.
type Scheduled struct {
	// ID is unique per scheduled invocation.
	ID string
	// At is when the invocation is due.
	At time.Time
	// Request is the encoded protocol.InvocationRequest to run.
	Request []byte
}

// Store persists snapshots and scheduled invocations. Implementations are
// safe for concurrent use. A method that returns nil has made its write
// durable: a crash right after it cannot lose the write.
type Store interface {
	// Load returns the latest record saved for key, or ErrNotFound.
	Load(ctx context.Context, key Key) (Record, error)
	// LoadRevision returns the record saved for key with revision rev, or ErrNotFound.
	LoadRevision(ctx context.Context, key Key, rev int64) (Record, error)
	// Save makes rec the latest record of key and keeps it as revision rec.Revision.
	Save(ctx context.Context, key Key, rec Record) error
	// Revisions lists the revisions kept for key, in increasing order of
	// their numbers; none (and no error) when nothing is stored.
	Revisions(ctx context.Context, key Key) ([]RevisionInfo, error)

	// PutScheduled stores (or replaces, by ID) a delayed invocation.
	PutScheduled(ctx context.Context, s Scheduled) error
	// DeleteScheduled removes a delayed invocation; an unknown ID is not an error.
	DeleteScheduled(ctx context.Context, id string) error
	// ListScheduled returns every stored delayed invocation, earliest first.
	ListScheduled(ctx context.Context) ([]Scheduled, error)

	// Close releases the store. Calls after Close return an error.
	Close() error
}

// Entry is one record to save, with the key it is saved under.
type Entry struct {
	Key    Key
	Record Record
}

// BatchSaver is implemented by stores that can save several records in one
// write: the runtime's periodic snapshots and its shutdown save every dirty
// actor at once, and one durable write costs far less than one per actor.
type BatchSaver interface {
	// SaveBatch saves every entry as Save would, all or none: when it
	// returns nil every record is durable, and when it fails none was
	// saved. Entries are saved in order, so a later entry of a key is
	// its latest record.
	SaveBatch(ctx context.Context, batch []Entry) error
}

// Batches reports whether SaveAll saves a batch in store in one write:
// only a *Memory or a *Disk is asked for a batch. A store that wraps one of
// them by embedding it, and overrides Save, also has their SaveBatch, and
// must still see every save go through its own Save.
func Batches(store Store) bool {
	switch store.(type) {
	case *Memory, *Disk:
		return true
	}
	return false
}

// SaveAll saves batch in store: in one write, all or none, when Batches
// reports true, otherwise with one Save per entry, stopping at the first
// failure.
func SaveAll(ctx context.Context, store Store, batch []Entry) error {
	if Batches(store) {
		return store.(BatchSaver).SaveBatch(ctx, batch)
	}
	for _, en := range batch {
		if err := store.Save(ctx, en.Key, en.Record); err != nil {
			return err
		}
	}
	return nil
}
