package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spawn-go/spawn/protocol"
)

// crashChildEnv switches TestHelperProcess on; its value is the data
// directory. The child reads its key from protocol.EnvStateKey, like the runtime.
const crashChildEnv = "SPAWN_STATE_CRASH_CHILD_DIR"

const (
	crashRounds  = 20
	crashMaxAcks = 400  // the child is killed after 1..crashMaxAcks acknowledged writes
	crashOps     = 5000 // more than the child ever gets to
	crashActors  = 3
	// crashRoundTimeout bounds one round: a child that stops writing (a
	// stuck fsync, a deadlock) is killed and the round fails, instead of
	// holding the test until the go test timeout. A round takes well
	// under a second.
	crashRoundTimeout = 30 * time.Second
)

// crashOp is one write of the crash script.
type crashOp struct {
	actor int // index of the actor to save, or -1 for a scheduling op
	rec   Record
	put   *Scheduled
	del   string // ID to unschedule
}

// crashScript returns the writes the child makes, in order. It is
// deterministic, so the parent can rebuild what the store must hold.
func crashScript() []crashOp {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	revs := make([]int64, crashActors)
	ops := make([]crashOp, 0, crashOps)
	for i := range crashOps {
		if i%4 == 3 {
			j := i / 4
			if j%3 == 2 {
				ops = append(ops, crashOp{actor: -1, del: fmt.Sprint("s", j-1)})
			} else {
				// Out of order in time, so that listing must sort.
				at := base.Add(time.Duration(j*7919%1000) * time.Second)
				ops = append(ops, crashOp{actor: -1, put: &Scheduled{ID: fmt.Sprint("s", j), At: at, Request: fmt.Append(nil, "req", j)}})
			}
			continue
		}
		a := i % 4
		// Now and then save the current revision again, as a checkpoint
		// or a deactivation does.
		if revs[a] == 0 || i%13 != 0 {
			revs[a]++
		}
		ops = append(ops, crashOp{actor: a, rec: Record{
			Revision: revs[a],
			TypeURL:  "type.googleapis.com/test.Counter",
			Data:     fmt.Appendf(nil, "actor %d revision %d op %d", a, revs[a], i),
			Tags:     map[string]string{"op": strconv.Itoa(i)},
		}})
	}
	return ops
}

func crashKey(actor int) Key { return Key{System: "crash", Name: fmt.Sprint("actor", actor)} }

func (op crashOp) apply(ctx context.Context, s Store) error {
	switch {
	case op.actor >= 0:
		return s.Save(ctx, crashKey(op.actor), op.rec)
	case op.put != nil:
		return s.PutScheduled(ctx, *op.put)
	default:
		return s.DeleteScheduled(ctx, op.del)
	}
}

// TestHelperProcess is the child of TestCrash. It runs the crash script
// against the store and prints the index of every write once it has
// returned, until it is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestCrash")
	}
	key, err := KeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir, WithKey(key))
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range crashScript() {
		if err := op.apply(context.Background(), d); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		// Unbuffered: the write reaches the parent before the next op starts.
		fmt.Fprintln(os.Stdout, i)
	}
	t.Fatal("the parent never killed the child")
}

// TestCrash kills (SIGKILL) a process that is writing to a disk store at
// random moments, crashRounds times, and checks that every write it
// acknowledged survives: the store's Save is what a checkpoint waits for
// before the caller hears of it (docs/reliability.md).
func TestCrash(t *testing.T) {
	switch runtime.GOOS {
	case "js", "wasip1", "ios", "android":
		t.Skip("cannot run a child process on " + runtime.GOOS)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	script := crashScript()

	kills, acked := 0, 0
	for round := range crashRounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			var key []byte
			if round%2 == 1 {
				key = testKey
			}
			dir := t.TempDir()
			last := runCrashChild(t, dir, key, 1+rng.IntN(crashMaxAcks))
			kills++
			acked += last + 1
			checkCrashStore(t, dir, key, script, last)
		})
	}
	if !t.Failed() {
		t.Logf("figures: %d SIGKILLs during %d acknowledged writes; acknowledged writes lost: 0", kills, acked)
	}
}

// runCrashChild starts TestHelperProcess on dir, kills it with SIGKILL
// after killAfter acknowledged writes, and returns the index of the last
// write it acknowledged.
func runCrashChild(t *testing.T, dir string, key []byte, killAfter int) (last int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"="+dir,
		protocol.EnvStateKey+"="+base64.StdEncoding.EncodeToString(key),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	// The watchdog: killing the child ends the scan below.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(crashRoundTimeout, func() {
		stalled.Store(true)
		cmd.Process.Kill()
	})
	defer watchdog.Stop()

	last = -1
	acks := 0
	sc := bufio.NewScanner(stdout)
	// Read to the end even after the kill: what the child printed before it
	// died was acknowledged too.
	for sc.Scan() {
		i, err := strconv.Atoi(sc.Text())
		if err != nil || i != last+1 {
			t.Fatalf("child printed %q after ack %d\nstderr:\n%s", sc.Text(), last, &stderr)
		}
		last = i
		if acks++; acks == killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if stalled.Load() && !killed {
		killed = true // waited for
		t.Fatalf("child stalled: %d of %d acks after %v\nstderr:\n%s", acks, killAfter, crashRoundTimeout, &stderr)
	}
	if !killed {
		killed = true // waited for
		t.Fatalf("child exited after %d acks, before it was killed: %v\nstderr:\n%s", acks, err, &stderr)
	}
	t.Logf("killed after %d acks; saw %d", killAfter, acks)
	return last
}

// checkCrashStore checks that the store in dir holds the writes of
// script up to last, and possibly the one after it, which was in flight
// when the child died; nothing else.
func checkCrashStore(t *testing.T, dir string, key []byte, script []crashOp, last int) {
	d, err := Open(dir, WithKey(key))
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	defer d.Close()

	ctx := t.Context()
	acked, inFlight := NewMemory(), NewMemory()
	for i, op := range script[:min(last+2, len(script))] {
		if i <= last {
			if err := op.apply(ctx, acked); err != nil {
				t.Fatal(err)
			}
		}
		if err := op.apply(ctx, inFlight); err != nil {
			t.Fatal(err)
		}
	}

	// The acknowledged writes, explicitly, for a clear message.
	for a := range crashActors {
		want, err := acked.Load(ctx, crashKey(a))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		got, err := d.Load(ctx, crashKey(a))
		if err != nil {
			t.Fatalf("actor %d: acknowledged revision %d lost: %v", a, want.Revision, err)
		}
		if got.Revision < want.Revision {
			t.Errorf("actor %d: latest revision %d, acknowledged %d", a, got.Revision, want.Revision)
		}
		for rev := int64(1); rev <= want.Revision; rev++ {
			want, _ := acked.LoadRevision(ctx, crashKey(a), rev)
			got, err := d.LoadRevision(ctx, crashKey(a), rev)
			if err != nil {
				t.Fatalf("actor %d: acknowledged revision %d lost: %v", a, rev, err)
			}
			if !bytes.Equal(got.Data, want.Data) {
				// Only the write in flight may have replaced it.
				if alt, _ := inFlight.LoadRevision(ctx, crashKey(a), rev); !bytes.Equal(got.Data, alt.Data) {
					t.Errorf("actor %d revision %d holds %q, want %q", a, rev, got.Data, want.Data)
				}
			}
		}
	}

	// Then everything: the store must equal one of the two models.
	probe := make(map[int]int64)
	for a := range crashActors {
		if rec, err := inFlight.Load(ctx, crashKey(a)); err == nil {
			probe[a] = rec.Revision
		}
	}
	got := dumpStore(t, d, probe)
	if got != dumpStore(t, acked, probe) && got != dumpStore(t, inFlight, probe) {
		t.Errorf("store after the crash (last ack %d):\n%s\nwant:\n%s\nor, with the write in flight:\n%s",
			last, got, dumpStore(t, acked, probe), dumpStore(t, inFlight, probe))
	}

	// And the file itself must be consistent.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, dbFileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}); err != nil {
		t.Errorf("database check: %v", err)
	}
}

// dumpStore renders what s holds for the crash actors as text, looking at
// revisions up to probe[actor].
func dumpStore(t *testing.T, s Store, probe map[int]int64) string {
	ctx := t.Context()
	var b strings.Builder
	record := func(prefix string, rec Record, err error) {
		switch {
		case errors.Is(err, ErrNotFound):
			fmt.Fprintf(&b, "%s: none\n", prefix)
		case err != nil:
			t.Fatalf("%s: %v", prefix, err)
		default:
			fmt.Fprintf(&b, "%s: rev %d %q %q %v\n", prefix, rec.Revision, rec.TypeURL, rec.Data, rec.Tags)
		}
	}
	for a := range crashActors {
		rec, err := s.Load(ctx, crashKey(a))
		record(fmt.Sprint("actor ", a), rec, err)
		for rev := int64(1); rev <= probe[a]; rev++ {
			rec, err := s.LoadRevision(ctx, crashKey(a), rev)
			record(fmt.Sprint("actor ", a, " revision ", rev), rec, err)
		}
	}
	list, err := s.ListScheduled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sch := range list {
		fmt.Fprintf(&b, "scheduled %s at %s: %q\n", sch.ID, sch.At.UTC().Format(time.RFC3339Nano), sch.Request)
	}
	return b.String()
}
