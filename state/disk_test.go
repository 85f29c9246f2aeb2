package state

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spawn-go/spawn/protocol"
)

func TestDiskReopen(t *testing.T) {
	dir := t.TempDir()
	joe := Key{System: "sys", Name: "joe", Parent: "p"}
	at := time.Date(2026, 5, 1, 12, 0, 0, 7, time.UTC)

	d := openDisk(t, dir)
	for rev := int64(1); rev <= 3; rev++ {
		mustSave(t, d, joe, Record{Revision: rev, TypeURL: "t", Data: []byte{byte(rev)}, Tags: map[string]string{"r": string(rune('0' + rev))}})
	}
	mustSave(t, d, joe, Record{Revision: 2, TypeURL: "t", Data: []byte("restored")})
	mustPut(t, d, Scheduled{ID: "late", At: at.Add(time.Hour), Request: []byte("late")})
	mustPut(t, d, Scheduled{ID: "soon", At: at, Request: []byte("soon")})
	saved := mustLoad(t, d, joe).SavedAt
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	d = openDisk(t, dir)
	got := mustLoad(t, d, joe)
	checkRecord(t, got, Record{Revision: 2, TypeURL: "t", Data: []byte("restored")})
	if !got.SavedAt.Equal(saved) {
		t.Errorf("SavedAt after reopen = %v, want %v", got.SavedAt, saved)
	}
	for _, rev := range []int64{1, 3} {
		rec, err := d.LoadRevision(t.Context(), joe, rev)
		if err != nil {
			t.Fatalf("LoadRevision(%d): %v", rev, err)
		}
		checkRecord(t, rec, Record{Revision: rev, TypeURL: "t", Data: []byte{byte(rev)}, Tags: map[string]string{"r": string(rune('0' + rev))}})
	}
	list := mustList(t, d)
	checkScheduledIDs(t, list, "soon", "late")
	if !list[0].At.Equal(at) || string(list[0].Request) != "soon" {
		t.Errorf("scheduled after reopen = %+v", list[0])
	}
}

func TestDiskFileModes(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no Unix permissions on " + runtime.GOOS)
	}
	dir := filepath.Join(t.TempDir(), "data", "spawn")
	d := openDisk(t, dir)
	for path, want := range map[string]os.FileMode{dir: 0o700, d.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
	if d.Path() != filepath.Join(dir, dbFileName) {
		t.Errorf("Path() = %q, want it in %q", d.Path(), dir)
	}
}

// Open syncs every directory that gained an entry, the data directory
// included, since bbolt syncs the database file alone. A power failure is
// what would lose an unsynced entry, so the test checks the calls.
func TestDiskSyncsDirectories(t *testing.T) {
	var synced []string
	orig := syncDir
	syncDir = func(dir string) error {
		synced = append(synced, dir)
		return orig(dir)
	}
	t.Cleanup(func() { syncDir = orig })
	top := t.TempDir()
	dir := filepath.Join(top, "data", "spawn")
	openDisk(t, dir)
	for _, want := range []string{top, filepath.Join(top, "data"), dir} {
		if !slices.Contains(synced, want) {
			t.Errorf("%s not synced; synced %q", want, synced)
		}
	}
}

func TestDiskEncryption(t *testing.T) {
	secret := []byte("top-secret-actor-state-0123456789")
	const typeURL = "type.googleapis.com/domain.SecretState"
	joe := Key{System: "sys", Name: "joe"}

	for _, tt := range []struct {
		name      string
		opts      []Option
		plaintext bool // whether the file holds secret in the clear
	}{
		{"no key", nil, true},
		{"nil key", []Option{WithKey(nil)}, true},
		{"key", []Option{WithKey(testKey)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d := openDisk(t, dir, tt.opts...)
			rec := Record{Revision: 1, TypeURL: typeURL, Data: secret, Tags: map[string]string{"owner": "joe"}}
			mustSave(t, d, joe, rec)
			checkRecord(t, mustLoad(t, d, joe), rec)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}

			raw, err := os.ReadFile(filepath.Join(dir, dbFileName))
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(raw, secret); got != tt.plaintext {
				t.Errorf("database file contains the state in the clear: %v, want %v", got, tt.plaintext)
			}
			// Like the real proxy, only the data is encrypted.
			if !bytes.Contains(raw, []byte(typeURL)) || !bytes.Contains(raw, []byte("owner")) {
				t.Error("database file lacks the type URL or the tags in the clear")
			}

			d = openDisk(t, dir, tt.opts...)
			checkRecord(t, mustLoad(t, d, joe), rec)
		})
	}
}

func TestDiskWrongKey(t *testing.T) {
	dir := t.TempDir()
	joe := Key{System: "sys", Name: "joe"}
	d := openDisk(t, dir, WithKey(testKey))
	mustSave(t, d, joe, Record{Revision: 1, Data: []byte("secret")})
	d.Close()

	otherKey := bytes.Repeat([]byte{7}, 32)
	if _, err := Open(dir, WithKey(otherKey)); err == nil || !strings.Contains(err.Error(), "different key") {
		t.Errorf("Open with another key: err = %v, want one about a different key", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), protocol.EnvStateKey) {
		t.Errorf("Open without a key: err = %v, want one naming %s", err, protocol.EnvStateKey)
	}

	// Without the key check, loading must still fail clearly rather than
	// return ciphertext.
	rawUpdate(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaKeyCheck) })
	d = openDisk(t, dir)
	if rec, err := d.Load(t.Context(), joe); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("Load without a key = %q, %v; want an error saying the state is encrypted", rec.Data, err)
	}
	d.Close()

	rawUpdate(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaKeyCheck) })
	d = openDisk(t, dir, WithKey(otherKey))
	if rec, err := d.Load(t.Context(), joe); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Errorf("Load with another key = %q, %v; want an error saying it cannot decrypt", rec.Data, err)
	}
}

func TestDiskEncryptedRecordsCannotBeMoved(t *testing.T) {
	dir := t.TempDir()
	joe := Key{System: "sys", Name: "joe"}
	bob := Key{System: "sys", Name: "bob"}
	d := openDisk(t, dir, WithKey(testKey))
	mustSave(t, d, joe, Record{Revision: 1, Data: []byte("joe 1")})
	mustSave(t, d, joe, Record{Revision: 2, Data: []byte("joe 2")})
	mustSave(t, d, bob, Record{Revision: 1, Data: []byte("bob 1")})
	d.Close()

	// Copy joe's revision 2 over joe's revision 1 and over bob's revision 1.
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRevisions)
		rec, _, err := decodeRecord(b.Get(revisionKey(actorKey(joe), 2)))
		if err != nil {
			return err
		}
		// Fix the revision field, so that only the additional data can
		// catch the move.
		rec.Revision = 1
		moved := encodeRecord(rec, true)
		if err := b.Put(revisionKey(actorKey(joe), 1), moved); err != nil {
			return err
		}
		return b.Put(revisionKey(actorKey(bob), 1), moved)
	})

	d = openDisk(t, dir, WithKey(testKey))
	if rec, err := d.LoadRevision(t.Context(), joe, 1); err == nil {
		t.Errorf("LoadRevision of a record moved from another revision = %q, want an error", rec.Data)
	}
	if rec, err := d.Load(t.Context(), bob); err == nil {
		t.Errorf("Load of a record moved from another actor = %q, want an error", rec.Data)
	}
	checkRecord(t, mustLoad(t, d, joe), Record{Revision: 2, Data: []byte("joe 2")})
}

// A key set on a store that holds plaintext is refused, rather than
// leave the plaintext in the file under a log line saying "encrypted".
// Encrypt seals it all and compacts the file, so that none of it is left.
func TestDiskKeyAddedLater(t *testing.T) {
	dir := t.TempDir()
	joe := Key{System: "sys", Name: "joe"}
	d := openDisk(t, dir)
	mustSave(t, d, joe, Record{Revision: 1, Data: []byte("plain-state-bytes")})
	mustPut(t, d, Scheduled{ID: "s", At: time.Unix(5, 0), Request: []byte("plain-scheduled-bytes")})
	d.Close()

	if _, err := Open(dir, WithKey(testKey)); err == nil || !strings.Contains(err.Error(), "spawn store encrypt") {
		t.Fatalf("Open with a key over plaintext: %v, want a refusal naming spawn store encrypt", err)
	}
	if err := Encrypt(dir, testKey); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"plain-state-bytes", "plain-scheduled-bytes"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("%q is still in the file after Encrypt", plain)
		}
	}
	d = openDisk(t, dir, WithKey(testKey))
	checkRecord(t, mustLoad(t, d, joe), Record{Revision: 1, Data: []byte("plain-state-bytes")})
	list, err := d.ListScheduled(t.Context())
	if err != nil || len(list) != 1 || string(list[0].Request) != "plain-scheduled-bytes" {
		t.Fatalf("scheduled after Encrypt = %v, %v", list, err)
	}
	mustSave(t, d, joe, Record{Revision: 2, Data: []byte("sealed")})
	mustPut(t, d, Scheduled{ID: "t", At: time.Unix(6, 0), Request: []byte("sealed-scheduled")})
	d.Close()
	raw, _ = os.ReadFile(filepath.Join(dir, dbFileName))
	if bytes.Contains(raw, []byte("sealed-scheduled")) {
		t.Error("a scheduled invocation saved with a key is in the file in the clear")
	}
}

// Only the last WithKeepRevisions revisions of an actor are kept, and
// Compact gives the space of the others back.
func TestDiskRetentionAndCompaction(t *testing.T) {
	dir := t.TempDir()
	joe, bob := Key{System: "sys", Name: "joe"}, Key{System: "sys", Name: "bob"}
	d := openDisk(t, dir, WithKeepRevisions(10))
	big := bytes.Repeat([]byte("x"), 4096)
	for rev := int64(1); rev <= 500; rev++ {
		mustSave(t, d, joe, Record{Revision: rev, Data: big})
	}
	mustSave(t, d, bob, Record{Revision: 1, Data: []byte("bob")})
	for rev := int64(1); rev <= 500; rev++ {
		_, err := d.LoadRevision(t.Context(), joe, rev)
		if kept := rev > 490; kept != (err == nil) {
			t.Fatalf("revision %d: kept = %v, want %v (%v)", rev, err == nil, kept, err)
		}
	}
	checkRecord(t, mustLoad(t, d, bob), Record{Revision: 1, Data: []byte("bob")})
	d.Close()
	before := fileSize(t, filepath.Join(dir, dbFileName))
	if err := Compact(dir); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, filepath.Join(dir, dbFileName))
	if after >= before {
		t.Fatalf("file is %d bytes after Compact, %d before", after, before)
	}
	d = openDisk(t, dir)
	checkRecord(t, mustLoad(t, d, joe), Record{Revision: 500, Data: big})
	t.Logf("500 revisions of 4 KiB, 10 kept: %d bytes before Compact, %d after", before, after)
}

// A data directory or file that other users can read is made private.
func TestDiskTightensPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := openDisk(t, dir)
	if len(d.Warnings()) != 1 || !strings.Contains(d.Warnings()[0], "now") {
		t.Errorf("warnings = %q, want one about the directory", d.Warnings())
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestDiskCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	joe := Key{System: "sys", Name: "joe"}
	d := openDisk(t, dir)
	mustSave(t, d, joe, Record{Revision: 1, Data: []byte("x")})
	mustSave(t, d, joe, Record{Revision: 2, Data: []byte("x")})
	mustPut(t, d, Scheduled{ID: "s"})
	d.Close()

	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketRevisions).Put(revisionKey(actorKey(joe), 2), []byte{formatVersion, 0xff}); err != nil {
			return err
		}
		// Revision 1 holding revision 9 is corrupt too.
		if err := tx.Bucket(bucketRevisions).Put(revisionKey(actorKey(joe), 1), encodeRecord(Record{Revision: 9}, false)); err != nil {
			return err
		}
		return tx.Bucket(bucketScheduled).Put([]byte("s"), []byte{9})
	})
	d = openDisk(t, dir)
	if _, err := d.Load(t.Context(), joe); err == nil || !strings.Contains(err.Error(), d.Path()) {
		t.Errorf("Load of a corrupt record: err = %v, want one naming the file", err)
	}
	if _, err := d.LoadRevision(t.Context(), joe, 1); err == nil {
		t.Error("LoadRevision of a record holding another revision succeeded")
	}
	if _, err := d.ListScheduled(t.Context()); err == nil {
		t.Error("ListScheduled with a corrupt invocation succeeded")
	}
}

func TestDiskLocked(t *testing.T) {
	dir := t.TempDir()
	d := openDisk(t, dir)
	_, err := Open(dir, withLockTimeout(50*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "another spawn runtime is using "+d.Path()) {
		t.Fatalf("second Open: err = %v, want one saying another runtime uses %s", err, d.Path())
	}
	d.Close()
	openDisk(t, dir, withLockTimeout(50*time.Millisecond))
}

func TestOpenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := t.TempDir()
	if err := os.WriteFile(filepath.Join(notDB, dbFileName), bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		dir  string
		opts []Option
		want string
	}{
		{"no dir", "", nil, "DefaultDir"},
		{"short key", t.TempDir(), []Option{WithKey(make([]byte, 16))}, "16 bytes, want 32"},
		{"dir is a file", notDir, nil, "data directory"},
		{"not a database", notDB, nil, dbFileName},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Open(tt.dir, tt.opts...)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestWithKeyCopiesKey(t *testing.T) {
	key := bytes.Clone(testKey)
	opt := WithKey(key)
	clear(key)
	var o options
	opt(&o)
	if !bytes.Equal(o.key, testKey) {
		t.Error("WithKey kept the caller's slice")
	}
}

func TestKeyFromEnv(t *testing.T) {
	valid := base64.StdEncoding.EncodeToString(testKey)
	tests := []struct {
		name    string
		value   string
		unset   bool
		want    []byte
		wantErr string
	}{
		{name: "unset", unset: true},
		{name: "empty", value: ""},
		{name: "blank", value: "  \n"},
		{name: "valid", value: valid, want: testKey},
		{name: "trailing newline", value: valid + "\n", want: testKey},
		{name: "not base64", value: "not base64!", wantErr: "not valid standard base64"},
		{name: "URL encoding", value: base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), wantErr: "not valid standard base64"},
		{name: "16 bytes", value: base64.StdEncoding.EncodeToString(make([]byte, 16)), wantErr: "decodes to 16 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(protocol.EnvStateKey, tt.value)
			if tt.unset {
				os.Unsetenv(protocol.EnvStateKey)
			}
			got, err := KeyFromEnv()
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("KeyFromEnv() = %x, want an error", got)
				}
				for _, want := range []string{tt.wantErr, protocol.EnvStateKey, "openssl rand -base64 32"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.value)) {
					t.Errorf("error %q reveals the key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("KeyFromEnv: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("KeyFromEnv() = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("home directory comes from another variable on " + runtime.GOOS)
	}
	tests := []struct {
		name               string
		dataDir, xdg, home string
		want               string
	}{
		{"data dir wins", "/data/spawn", "/xdg", "/home/u", "/data/spawn"},
		{"relative data dir", "data", "/xdg", "/home/u", "data"},
		{"xdg state home", "", "/xdg", "/home/u", "/xdg/spawn"},
		{"relative xdg ignored", "", "xdg", "/home/u", "/home/u/.local/state/spawn"},
		{"home", "", "", "/home/u", "/home/u/.local/state/spawn"},
		{"no home", "", "", "", filepath.Join(os.TempDir(), "spawn-"+strconv.Itoa(os.Getuid()))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(protocol.EnvDataDir, tt.dataDir)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := DefaultDir(); got != tt.want {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// rawUpdate changes the closed database in dir behind the store's back.
func rawUpdate(t *testing.T, dir string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, dbFileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkDiskSave(b *testing.B) {
	for _, bm := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"encrypted", []Option{WithKey(testKey)}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			d := openDisk(b, b.TempDir(), bm.opts...)
			key := Key{System: "sys", Name: "bench"}
			rec := Record{TypeURL: "type.googleapis.com/bench.State", Data: bytes.Repeat([]byte("x"), 1024), Tags: map[string]string{"a": "b"}}
			b.SetBytes(int64(len(rec.Data)))
			for b.Loop() {
				rec.Revision++
				if err := d.Save(b.Context(), key, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
