package state

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a Store that keeps everything in memory, for tests. It copies
// what goes in and what comes out, so callers may reuse their slices and
// maps. Like the disk store by default, it keeps the last
// DefaultKeepRevisions revisions of each actor. The zero value is an empty
// store ready for use.
type Memory struct {
	mu        sync.Mutex
	closed    bool
	actors    map[Key]*memActor
	scheduled map[string]Scheduled
}

type memActor struct {
	latest int64
	revs   map[int64]Record
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{}
}

// Load implements Store.
func (m *Memory) Load(ctx context.Context, key Key) (Record, error) {
	return m.load(ctx, key, func(a *memActor) (Record, error) { return a.revs[a.latest], nil })
}

// LoadRevision implements Store.
func (m *Memory) LoadRevision(ctx context.Context, key Key, rev int64) (Record, error) {
	return m.load(ctx, key, func(a *memActor) (Record, error) {
		rec, ok := a.revs[rev]
		if !ok {
			return Record{}, revisionNotFound(key, rev)
		}
		return rec, nil
	})
}

// load finds key's records under the lock and returns a copy of the one
// pick chooses, so both loads share their checks.
func (m *Memory) load(ctx context.Context, key Key, pick func(*memActor) (Record, error)) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Record{}, ErrClosed
	}
	a, ok := m.actors[key]
	if !ok {
		return Record{}, notFound(key)
	}
	rec, err := pick(a)
	if err != nil {
		return Record{}, err
	}
	return cloneRecord(rec), nil
}

var _ BatchSaver = (*Memory)(nil)

// Save implements Store.
func (m *Memory) Save(ctx context.Context, key Key, rec Record) error {
	return m.SaveBatch(ctx, []Entry{{Key: key, Record: rec}})
}

// SaveBatch implements BatchSaver: every record is stored under one lock.
func (m *Memory) SaveBatch(ctx context.Context, batch []Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	recs := make([]Record, len(batch))
	for i, en := range batch {
		recs[i] = cloneRecord(en.Record)
		// Round(0) drops the monotonic reading, which the disk store
		// cannot keep either.
		recs[i].SavedAt = savedAt(recs[i].SavedAt).Round(0)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.actors == nil {
		m.actors = make(map[Key]*memActor)
	}
	for i, en := range batch {
		m.saveLocked(en.Key, recs[i])
	}
	return nil
}

// saveLocked stores rec, a private copy, as the latest record of key.
func (m *Memory) saveLocked(key Key, rec Record) {
	a, ok := m.actors[key]
	if !ok {
		a = &memActor{revs: make(map[int64]Record)}
		m.actors[key] = a
	}
	a.revs[rec.Revision] = rec
	a.latest = rec.Revision
	// Like the disk store's default retention: a store that lives as long
	// as the process must not grow at every snapshot.
	if len(a.revs) > DefaultKeepRevisions {
		oldest := a.latest - DefaultKeepRevisions + 1
		for rev := range a.revs {
			if rev < oldest {
				delete(a.revs, rev)
			}
		}
	}
}

// Revisions implements Store.
func (m *Memory) Revisions(ctx context.Context, key Key) ([]RevisionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	a, ok := m.actors[key]
	if !ok {
		return nil, nil
	}
	list := make([]RevisionInfo, 0, len(a.revs))
	for _, rec := range a.revs {
		list = append(list, RevisionInfo{Revision: rec.Revision, SavedAt: rec.SavedAt, Size: len(rec.Data)})
	}
	slices.SortFunc(list, func(a, b RevisionInfo) int { return cmp.Compare(a.Revision, b.Revision) })
	return list, nil
}

// savedAt is the time a record given to Save is saved at: its own, or now.
func savedAt(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// PutScheduled implements Store.
func (m *Memory) PutScheduled(ctx context.Context, s Scheduled) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkScheduled(s); err != nil {
		return err
	}
	s.Request = bytes.Clone(s.Request)
	s.At = s.At.Round(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.scheduled == nil {
		m.scheduled = make(map[string]Scheduled)
	}
	m.scheduled[s.ID] = s
	return nil
}

// DeleteScheduled implements Store.
func (m *Memory) DeleteScheduled(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	delete(m.scheduled, id)
	return nil
}

// ListScheduled implements Store.
func (m *Memory) ListScheduled(ctx context.Context) ([]Scheduled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	list := make([]Scheduled, 0, len(m.scheduled))
	for _, s := range m.scheduled {
		s.Request = bytes.Clone(s.Request)
		list = append(list, s)
	}
	sortScheduled(list)
	return list, nil
}

// Close implements Store. The contents are dropped.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.actors, m.scheduled = nil, nil
	return nil
}

func cloneRecord(rec Record) Record {
	rec.Data = bytes.Clone(rec.Data)
	rec.Tags = maps.Clone(rec.Tags)
	return rec
}

func checkScheduled(s Scheduled) error {
	if s.ID == "" {
		return errors.New("state: scheduled invocation has no ID")
	}
	return nil
}

// sortScheduled puts list in the order ListScheduled promises: earliest
// first, ties broken by ID so that the order is stable across calls.
func sortScheduled(list []Scheduled) {
	slices.SortFunc(list, func(a, b Scheduled) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
}

func notFound(key Key) error {
	return fmt.Errorf("%w: %v", ErrNotFound, key)
}

func revisionNotFound(key Key, rev int64) error {
	return fmt.Errorf("%w: %v revision %d", ErrNotFound, key, rev)
}
