package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a fixed AES-256 key for tests.
var testKey = bytes.Repeat([]byte{0x42}, 32)

// A wrapper that embeds a *Memory, whose SaveBatch it inherits, still
// sees every save of SaveAll go through its own Save.
func TestSaveAllEmbeddedMemory(t *testing.T) {
	w := &embeddingMemory{Memory: NewMemory()}
	batch := []Entry{{Key: Key{System: "s", Name: "a"}, Record: Record{Revision: 1}}, {Key: Key{System: "s", Name: "b"}, Record: Record{Revision: 1}}}
	if err := SaveAll(t.Context(), w, batch); err != nil || w.n != 2 {
		t.Errorf("SaveAll through a wrapper: %v, %d saves; want 2", err, w.n)
	}
}

type embeddingMemory struct {
	*Memory
	n int
}

func (m *embeddingMemory) Save(ctx context.Context, key Key, rec Record) error {
	m.n++
	return m.Memory.Save(ctx, key, rec)
}

func TestMemory(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return NewMemory() })
}

func TestMemoryZeroValue(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return new(Memory) })
}

func TestDisk(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return openDisk(t, t.TempDir()) })
}

func TestDiskEncrypted(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return openDisk(t, t.TempDir(), WithKey(testKey)) })
}

// openDisk opens a disk store that is closed when the test ends.
func openDisk(t testing.TB, dir string, opts ...Option) *Disk {
	t.Helper()
	d, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// testStore is the behaviour every Store must have. open returns a new,
// empty store for each subtest.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	actor := Key{System: "sys", Name: "joe"}

	t.Run("SaveBatch", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		b, ok := s.(BatchSaver)
		if !ok {
			t.Fatalf("%T is not a BatchSaver", s)
		}
		other := Key{System: "sys", Name: "bob", Parent: "tmpl"}
		mustSave(t, s, actor, Record{Revision: 1, Data: []byte("old")})
		batch := []Entry{
			{Key: actor, Record: Record{Revision: 2, TypeURL: "t", Data: []byte("joe2"), Tags: map[string]string{"k": "v"}}},
			{Key: other, Record: Record{Revision: 1, TypeURL: "t", Data: []byte("bob1")}},
			{Key: other, Record: Record{Revision: 2, TypeURL: "t", Data: []byte("bob2")}},
		}
		if err := b.SaveBatch(ctx, batch); err != nil {
			t.Fatalf("SaveBatch: %v", err)
		}
		batch[0].Record.Data[0] = 'X' // the store keeps its own copy
		for _, want := range []struct {
			key  Key
			rev  int64
			data string
		}{{actor, 2, "joe2"}, {other, 2, "bob2"}} {
			rec, err := s.Load(ctx, want.key)
			if err != nil || rec.Revision != want.rev || string(rec.Data) != want.data {
				t.Errorf("Load(%v) = %v, %v; want revision %d holding %q", want.key, rec, err, want.rev, want.data)
			}
		}
		if rec, err := s.Load(ctx, actor); err != nil || rec.Tags["k"] != "v" || rec.SavedAt.IsZero() {
			t.Errorf("Load(%v) = %+v, %v; want its tags and a save time", actor, rec, err)
		}
		if revs, err := s.Revisions(ctx, other); err != nil || len(revs) != 2 {
			t.Errorf("Revisions(%v) = %v, %v; want both revisions of the batch", other, revs, err)
		}
		if err := b.SaveBatch(ctx, nil); err != nil {
			t.Errorf("SaveBatch of nothing: %v", err)
		}
		if err := SaveAll(ctx, s, []Entry{{Key: actor, Record: Record{Revision: 3, Data: []byte("joe3")}}}); err != nil {
			t.Fatalf("SaveAll: %v", err)
		}
		if rec, _ := s.Load(ctx, actor); rec.Revision != 3 {
			t.Errorf("after SaveAll, latest revision = %d, want 3", rec.Revision)
		}
		s.Close()
		if err := b.SaveBatch(ctx, batch); !errors.Is(err, ErrClosed) {
			t.Errorf("SaveBatch after Close: err = %v, want ErrClosed", err)
		}
	})

	// A store that wraps another saves through its own Save, even when
	// the store it wraps can save batches.
	t.Run("SaveAllWrapped", func(t *testing.T) {
		w := &countingSaves{Store: open(t)}
		batch := []Entry{{Key: actor, Record: Record{Revision: 1}}, {Key: Key{System: "sys", Name: "b"}, Record: Record{Revision: 1}}}
		if err := SaveAll(t.Context(), w, batch); err != nil || w.n != 2 {
			t.Errorf("SaveAll through a wrapper: %v, %d saves; want 2", err, w.n)
		}
	})

	t.Run("LoadMissing", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, err := s.Load(ctx, actor); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load of a missing key: err = %v, want ErrNotFound", err)
		}
		if _, err := s.LoadRevision(ctx, actor, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("LoadRevision of a missing key: err = %v, want ErrNotFound", err)
		}
		mustSave(t, s, actor, Record{Revision: 1, Data: []byte("x")})
		if _, err := s.LoadRevision(ctx, actor, 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("LoadRevision of a missing revision: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Load(ctx, Key{System: "sys", Name: "joe", Parent: "p"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load of another parent's instance: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("SaveLoad", func(t *testing.T) {
		tests := []struct {
			name string
			rec  Record
		}{
			{"empty", Record{}},
			{"data", Record{Revision: 1, TypeURL: "type.googleapis.com/domain.JoeState", Data: []byte{0, 1, 2, 0xff}}},
			{"tags", Record{Revision: 7, Tags: map[string]string{"a": "1", "b": "", "": "empty key", "ü": "✓"}}},
			{"large", Record{Revision: 1 << 40, TypeURL: "t", Data: bytes.Repeat([]byte("state"), 100_000)}},
			{"negative revision", Record{Revision: -3, Data: []byte("odd but allowed")}},
		}
		s := open(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := Key{System: "sys", Name: tt.name}
				before := time.Now()
				mustSave(t, s, key, tt.rec)
				after := time.Now()
				got, err := s.Load(t.Context(), key)
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				checkRecord(t, got, tt.rec)
				if got.SavedAt.Before(before.Round(0)) || got.SavedAt.After(after) {
					t.Errorf("SavedAt = %v, want between %v and %v", got.SavedAt, before, after)
				}
			})
		}
	})

	t.Run("SavedAtGivenIsKept", func(t *testing.T) {
		s := open(t)
		at := time.Date(2000, 1, 1, 0, 0, 0, 5, time.UTC)
		mustSave(t, s, actor, Record{Revision: 1, SavedAt: at})
		if got := mustLoad(t, s, actor); !got.SavedAt.Equal(at) {
			t.Errorf("SavedAt = %v, want the time given, %v", got.SavedAt, at)
		}
	})

	t.Run("ListRevisions", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if list, err := s.Revisions(ctx, actor); err != nil || len(list) != 0 {
			t.Fatalf("Revisions of a missing key = %v, %v; want none, no error", list, err)
		}
		at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
		for rev := int64(1); rev <= 3; rev++ {
			mustSave(t, s, actor, Record{Revision: rev, TypeURL: "t", Data: bytes.Repeat([]byte("x"), int(rev)*10),
				SavedAt: at.Add(time.Duration(rev) * time.Minute)})
		}
		// Neighbours whose keys share a prefix with the actor's stay apart.
		mustSave(t, s, Key{System: "sys", Name: "jo"}, Record{Revision: 9, Data: []byte("other")})
		mustSave(t, s, Key{System: "sys", Name: "joe", Parent: "p"}, Record{Revision: 8, Data: []byte("other")})
		mustSave(t, s, Key{System: "sys", Name: "joey"}, Record{Revision: 7, Data: []byte("other")})
		list, err := s.Revisions(ctx, actor)
		if err != nil {
			t.Fatalf("Revisions: %v", err)
		}
		var want []RevisionInfo
		for rev := int64(1); rev <= 3; rev++ {
			want = append(want, RevisionInfo{Revision: rev, SavedAt: at.Add(time.Duration(rev) * time.Minute), Size: int(rev) * 10})
		}
		if !slices.EqualFunc(list, want, func(a, b RevisionInfo) bool {
			return a.Revision == b.Revision && a.SavedAt.Equal(b.SavedAt) && a.Size == b.Size
		}) {
			t.Errorf("Revisions = %+v,\nwant %+v", list, want)
		}
		mustSave(t, s, actor, Record{Revision: 2, Data: []byte("restored")})
		if list, _ := s.Revisions(ctx, actor); len(list) != 3 || list[1].Size != len("restored") {
			t.Errorf("Revisions after saving revision 2 again = %+v", list)
		}
	})

	t.Run("Revisions", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		rec := func(rev int64, data string) Record {
			return Record{Revision: rev, TypeURL: "t", Data: []byte(data), Tags: map[string]string{"rev": data}}
		}
		for rev := int64(1); rev <= 5; rev++ {
			mustSave(t, s, actor, rec(rev, fmt.Sprint("v", rev)))
		}
		checkRecord(t, mustLoad(t, s, actor), rec(5, "v5"))
		for rev := int64(1); rev <= 5; rev++ {
			got, err := s.LoadRevision(ctx, actor, rev)
			if err != nil {
				t.Fatalf("LoadRevision(%d): %v", rev, err)
			}
			checkRecord(t, got, rec(rev, fmt.Sprint("v", rev)))
		}

		// Restoring revision 3 and continuing from it: the latest is the
		// record saved last, and revisions 4 and 5 stay.
		mustSave(t, s, actor, rec(3, "v3 again"))
		checkRecord(t, mustLoad(t, s, actor), rec(3, "v3 again"))
		got, err := s.LoadRevision(ctx, actor, 5)
		if err != nil {
			t.Fatalf("LoadRevision(5) after restore: %v", err)
		}
		checkRecord(t, got, rec(5, "v5"))
		mustSave(t, s, actor, rec(4, "v4 again"))
		checkRecord(t, mustLoad(t, s, actor), rec(4, "v4 again"))
	})

	t.Run("KeysAreDistinct", func(t *testing.T) {
		s := open(t)
		// Pairs that a naive concatenation of the parts would confuse.
		keys := []Key{
			{System: "sys", Name: "joe"},
			{System: "sys", Name: "joe", Parent: "p"},
			{System: "sys", Name: "joep"},
			{System: "sy", Name: "sjoe"},
			{System: "sys/joe"},
			{Name: "sys", Parent: "joe"},
			{},
		}
		for i, k := range keys {
			mustSave(t, s, k, Record{Revision: int64(i), Data: []byte(k.String())})
		}
		for i, k := range keys {
			checkRecord(t, mustLoad(t, s, k), Record{Revision: int64(i), Data: []byte(k.String())})
		}
	})

	t.Run("NoAliasing", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		rec := Record{Revision: 1, Data: []byte("abc"), Tags: map[string]string{"k": "v"}}
		mustSave(t, s, actor, rec)
		rec.Data[0] = 'X'
		rec.Tags["k"] = "changed"
		rec.Tags["new"] = "tag"

		want := Record{Revision: 1, Data: []byte("abc"), Tags: map[string]string{"k": "v"}}
		got := mustLoad(t, s, actor)
		checkRecord(t, got, want)
		got.Data[0] = 'Y'
		got.Tags["k"] = "changed"
		checkRecord(t, mustLoad(t, s, actor), want)
		got, err := s.LoadRevision(ctx, actor, 1)
		if err != nil {
			t.Fatal(err)
		}
		got.Data[1] = 'Y'
		clear(got.Tags)
		checkRecord(t, mustLoad(t, s, actor), want)

		sch := Scheduled{ID: "a", At: time.Unix(100, 0), Request: []byte("req")}
		mustPut(t, s, sch)
		sch.Request[0] = 'X'
		list := mustList(t, s)
		if len(list) != 1 || string(list[0].Request) != "req" {
			t.Fatalf("after changing the request passed in: ListScheduled = %v", list)
		}
		list[0].Request[0] = 'Y'
		if list := mustList(t, s); string(list[0].Request) != "req" {
			t.Fatalf("after changing the request returned: ListScheduled = %v", list)
		}
	})

	t.Run("Scheduled", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		if got := mustList(t, s); len(got) != 0 {
			t.Fatalf("ListScheduled of an empty store = %v", got)
		}
		for _, sch := range []Scheduled{
			{ID: "c", At: base.Add(time.Second), Request: []byte("c")},
			{ID: "b", At: base, Request: []byte("b")},
			{ID: "a", At: base, Request: []byte("a")},
			{ID: "early", At: base.Add(-time.Hour)},
			{ID: "nanos", At: base.Add(time.Nanosecond), Request: []byte("n")},
			{ID: "zero", Request: []byte("zero time")},
		} {
			mustPut(t, s, sch)
		}
		checkScheduledIDs(t, mustList(t, s), "zero", "early", "a", "b", "nanos", "c")

		// Replace by ID: "a" moves to the end and gets a new request.
		mustPut(t, s, Scheduled{ID: "a", At: base.Add(time.Minute), Request: []byte("a2")})
		list := mustList(t, s)
		checkScheduledIDs(t, list, "zero", "early", "b", "nanos", "c", "a")
		if a := list[5]; !a.At.Equal(base.Add(time.Minute)) || string(a.Request) != "a2" {
			t.Errorf("replaced invocation = %+v", a)
		}
		if n := list[3]; !n.At.Equal(base.Add(time.Nanosecond)) {
			t.Errorf("At of %q = %v, want %v", n.ID, n.At, base.Add(time.Nanosecond))
		}
		if z := list[0]; !z.At.IsZero() || string(z.Request) != "zero time" {
			t.Errorf("invocation with the zero time = %+v", z)
		}

		for _, id := range []string{"b", "unknown", "zero"} {
			if err := s.DeleteScheduled(ctx, id); err != nil {
				t.Fatalf("DeleteScheduled(%q): %v", id, err)
			}
		}
		checkScheduledIDs(t, mustList(t, s), "early", "nanos", "c", "a")

		if err := s.PutScheduled(ctx, Scheduled{At: base}); err == nil {
			t.Error("PutScheduled without an ID succeeded")
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Save(ctx, actor, Record{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Save: err = %v, want context.Canceled", err)
		}
		if _, err := s.Load(ctx, actor); !errors.Is(err, context.Canceled) {
			t.Errorf("Load: err = %v, want context.Canceled", err)
		}
		if err := s.PutScheduled(ctx, Scheduled{ID: "x"}); !errors.Is(err, context.Canceled) {
			t.Errorf("PutScheduled: err = %v, want context.Canceled", err)
		}
	})

	t.Run("Closed", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		mustSave(t, s, actor, Record{Revision: 1})
		mustPut(t, s, Scheduled{ID: "a"})
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, loadErr := s.Load(ctx, actor)
		_, loadRevErr := s.LoadRevision(ctx, actor, 1)
		_, listErr := s.ListScheduled(ctx)
		for name, err := range map[string]error{
			"Load":            loadErr,
			"LoadRevision":    loadRevErr,
			"Save":            s.Save(ctx, actor, Record{Revision: 2}),
			"PutScheduled":    s.PutScheduled(ctx, Scheduled{ID: "b"}),
			"DeleteScheduled": s.DeleteScheduled(ctx, "a"),
			"ListScheduled":   listErr,
			"Close":           s.Close(),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const workers, saves = 8, 20
		shared := Key{System: "sys", Name: "shared"}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				own := Key{System: "sys", Name: fmt.Sprint("worker", w)}
				for rev := int64(1); rev <= saves; rev++ {
					data := []byte(fmt.Sprint(w, "/", rev))
					if err := s.Save(ctx, own, Record{Revision: rev, Data: data}); err != nil {
						t.Error(err)
						return
					}
					if err := s.Save(ctx, shared, Record{Revision: int64(w), Data: data}); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.Load(ctx, shared); err != nil {
						t.Error(err)
						return
					}
					if err := s.PutScheduled(ctx, Scheduled{ID: fmt.Sprint(w), At: time.Unix(rev, 0)}); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.ListScheduled(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for w := range workers {
			own := Key{System: "sys", Name: fmt.Sprint("worker", w)}
			checkRecord(t, mustLoad(t, s, own), Record{Revision: saves, Data: []byte(fmt.Sprint(w, "/", saves))})
			for rev := int64(1); rev <= saves; rev++ {
				got, err := s.LoadRevision(ctx, own, rev)
				if err != nil {
					t.Fatalf("LoadRevision(%v, %d): %v", own, rev, err)
				}
				checkRecord(t, got, Record{Revision: rev, Data: []byte(fmt.Sprint(w, "/", rev))})
			}
		}
		got := mustLoad(t, s, shared)
		if want := fmt.Sprint(got.Revision, "/", saves); string(got.Data) != want {
			t.Errorf("shared key holds %q at revision %d, want %q: the latest is not the last save", got.Data, got.Revision, want)
		}
		if list := mustList(t, s); len(list) != workers {
			t.Errorf("ListScheduled has %d invocations, want %d", len(list), workers)
		}
	})
}

func mustSave(t testing.TB, s Store, key Key, rec Record) {
	t.Helper()
	if err := s.Save(context.Background(), key, rec); err != nil {
		t.Fatalf("Save(%v, revision %d): %v", key, rec.Revision, err)
	}
}

func mustLoad(t testing.TB, s Store, key Key) Record {
	t.Helper()
	rec, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%v): %v", key, err)
	}
	return rec
}

func mustPut(t testing.TB, s Store, sch Scheduled) {
	t.Helper()
	if err := s.PutScheduled(context.Background(), sch); err != nil {
		t.Fatalf("PutScheduled(%q): %v", sch.ID, err)
	}
}

func mustList(t testing.TB, s Store) []Scheduled {
	t.Helper()
	list, err := s.ListScheduled(context.Background())
	if err != nil {
		t.Fatalf("ListScheduled: %v", err)
	}
	return list
}

// checkRecord compares everything but SavedAt, which the store may set. A nil
// and an empty Data or Tags count as equal.
func checkRecord(t testing.TB, got, want Record) {
	t.Helper()
	if got.Revision != want.Revision || got.TypeURL != want.TypeURL ||
		!bytes.Equal(got.Data, want.Data) || !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("record = {Revision: %d, TypeURL: %q, Data: %.40q, Tags: %v},\nwant     {Revision: %d, TypeURL: %q, Data: %.40q, Tags: %v}",
			got.Revision, got.TypeURL, got.Data, got.Tags, want.Revision, want.TypeURL, want.Data, want.Tags)
	}
}

func checkScheduledIDs(t testing.TB, list []Scheduled, want ...string) {
	t.Helper()
	var got []string
	for _, s := range list {
		got = append(got, s.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListScheduled IDs = [%s], want [%s]", strings.Join(got, " "), strings.Join(want, " "))
	}
}

// The memory store, which `spawn proxy -memory` and spawn.WithMemoryStore
// use for as long as they run, keeps the last DefaultKeepRevisions
// revisions of each actor, as the disk store does by default: what it
// holds grows with the actors, not with how often they change. (Found
// while writing the reliability suite: it kept every revision, one more
// at each snapshot of a changed actor, for ever.)
func TestMemoryHistoryIsBounded(t *testing.T) {
	m := NewMemory()
	joe := Key{System: "sys", Name: "joe"}
	const saves = 3 * DefaultKeepRevisions
	for rev := int64(1); rev <= saves; rev++ {
		mustSave(t, m, joe, Record{Revision: rev, Data: fmt.Append(nil, rev)})
	}
	for rev := int64(1); rev <= saves; rev++ {
		_, err := m.LoadRevision(t.Context(), joe, rev)
		if kept := rev > saves-DefaultKeepRevisions; kept != (err == nil) {
			t.Fatalf("revision %d: kept = %v, want %v (%v)", rev, err == nil, kept, err)
		}
	}
	checkRecord(t, mustLoad(t, m, joe), Record{Revision: saves, Data: fmt.Append(nil, saves)})
	m.mu.Lock()
	n := len(m.actors[joe].revs)
	m.mu.Unlock()
	if n != DefaultKeepRevisions {
		t.Fatalf("%d revisions held, want %d", n, DefaultKeepRevisions)
	}
}

// countingSaves counts the saves that reach it.
type countingSaves struct {
	Store
	n int
}

func (c *countingSaves) Save(ctx context.Context, key Key, rec Record) error {
	c.n++
	return c.Store.Save(ctx, key, rec)
}
