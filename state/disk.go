package state

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/spawn-go/spawn/protocol"
)

// dbFileName is the database file inside the data directory.
const dbFileName = "state.db"

// Database layout, one bucket per line. Records and scheduled invocations
// are encoded as in codec.go.
//
//	meta       "format" -> formatVersion; "keycheck" -> a constant sealed with the key, if any
//	latest     actorKey -> revision saved last (8 bytes, see appendRevision)
//	revisions  actorKey || revision -> record
//	scheduled  ID -> scheduled invocation
var (
	bucketMeta      = []byte("meta")
	bucketLatest    = []byte("latest")
	bucketRevisions = []byte("revisions")
	bucketScheduled = []byte("scheduled")

	metaFormat   = []byte("format")
	metaKeyCheck = []byte("keycheck")
)

// The key check lets Open reject a wrong key up front instead of at the
// first load of some actor.
var (
	keyCheckPlaintext = []byte("spawn-go state key check")
	keyCheckAD        = []byte("spawn-go/state keycheck")
)

// Option configures Open.
type Option func(*options)

type options struct {
	key         []byte
	lockTimeout time.Duration
	keep        int64
}

// DefaultKeepRevisions is how many revisions of each actor the on-disk
// store keeps when WithKeepRevisions does not say.
const DefaultKeepRevisions = 100

// WithKeepRevisions keeps the last n revisions of each actor's state and
// deletes older ones as new ones are saved (default
// DefaultKeepRevisions); n < 0 keeps every revision. The space of deleted
// revisions is reused by later saves; Compact gives it back to the file
// system.
func WithKeepRevisions(n int) Option {
	return func(o *options) {
		if n != 0 {
			o.keep = int64(n)
		}
	}
}

// WithKey encrypts the state data at rest with AES-256-GCM under key, which
// must be 32 bytes (see KeyFromEnv). A nil key leaves the data unencrypted,
// so the result of KeyFromEnv can be passed as is.
//
// As in the real proxy, only Record.Data is encrypted; the type URL, the
// tags and the scheduled invocations are stored in the clear. Once a
// database has been opened with a key, it can only be opened with that key.
func WithKey(key []byte) Option {
	key = bytes.Clone(key)
	return func(o *options) { o.key = key }
}

// withLockTimeout shortens the wait for another process's lock, for tests.
func withLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// Disk is a durable Store kept in one bbolt database file. Every write is
// committed and synced to disk before the method returns, and every
// revision of every actor is kept. Only one process can open a database at
// a time.
type Disk struct {
	db       *bolt.DB
	path     string
	aead     cipher.AEAD // nil when the data is not encrypted
	keep     int64       // revisions kept per actor; < 0 all
	warnings []string
	closed   atomic.Bool
}

// Warnings returns what Open found wrong and put right, such as a data
// directory other users could read, for the caller to log.
func (d *Disk) Warnings() []string { return d.warnings }

var _ Store = (*Disk)(nil)

// Open opens the store in dir, creating the directory (mode 0700) and the
// database file (mode 0600) if needed, since actor state may be private.
// It fails if another process has the database open.
func Open(dir string, opts ...Option) (*Disk, error) {
	o := options{lockTimeout: time.Second, keep: DefaultKeepRevisions}
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, errors.New("state: no data directory given; state.DefaultDir() returns the default")
	}
	var aead cipher.AEAD
	if o.key != nil {
		var err error
		if aead, err = newAEAD(o.key); err != nil {
			return nil, err
		}
	}
	if err := mkdirDurable(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: create data directory: %w", err)
	}
	path := filepath.Join(dir, dbFileName)
	warnings, err := tighten(dir, path)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state: another spawn runtime is using %s (its lock was not released within %v); stop that process or set %s to another directory", path, o.lockTimeout, protocol.EnvDataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	d := &Disk{db: db, path: path, aead: aead, keep: o.keep, warnings: warnings}
	err = db.Update(d.init)
	if err == nil {
		// bbolt syncs the file, never the directory entry that names it:
		// without this, a new database could vanish in a power failure
		// along with every write acknowledged in it.
		if err = syncDir(dir); err != nil {
			err = fmt.Errorf("state: sync data directory %s: %w", dir, err)
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// tighten makes the data directory and the database file private to their
// owner, as Open creates them, when they already exist with looser
// permissions: actor state is the users' data. It returns what it changed.
func tighten(dir, path string) ([]string, error) {
	var warnings []string
	for _, f := range []struct {
		path string
		mode fs.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		if runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			return nil, fmt.Errorf("state: %s has mode %v, which lets other users read actor state, and it could not be made private: %w", f.path, fi.Mode().Perm(), err)
		}
		warnings = append(warnings, fmt.Sprintf("%s had mode %v, which let other users read actor state; it is now %v", f.path, fi.Mode().Perm(), f.mode))
	}
	return warnings, nil
}

// mkdirDurable is os.MkdirAll, followed by a sync of the parent of every
// directory it created, so that they survive a power failure.
func mkdirDurable(dir string, perm os.FileMode) error {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break // exists, or MkdirAll will report the problem
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// syncDir makes the entries of directory dir durable. It is a variable so
// that tests can see which directories are synced.
var syncDir = func(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // a directory cannot be opened for syncing there
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// init creates the buckets of a new database and checks that an existing
// one can be read with d's format and key.
func (d *Disk) init(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketLatest, bucketRevisions, bucketScheduled} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("state: initialize %s: %w", d.path, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(metaFormat); {
	case v == nil:
		if err := meta.Put(metaFormat, []byte{formatVersion}); err != nil {
			return fmt.Errorf("state: initialize %s: %w", d.path, err)
		}
	case len(v) != 1 || v[0] != formatVersion:
		return fmt.Errorf("state: %s was written by another version of spawn (format %v, want %d)", d.path, v, formatVersion)
	}
	check := meta.Get(metaKeyCheck)
	switch {
	case check == nil && d.aead != nil:
		// A key on a store that holds plaintext would leave that plaintext
		// in the file while claiming encryption: refuse, and say how to
		// encrypt it.
		if hasPlaintext(tx) {
			return fmt.Errorf("state: %s holds unencrypted state, and %s is set; encrypt it first with `spawn store encrypt -data-dir %s` (which reads the key from %s), or unset %s",
				d.path, protocol.EnvStateKey, filepath.Dir(d.path), protocol.EnvStateKey, protocol.EnvStateKey)
		}
		if err := meta.Put(metaKeyCheck, seal(d.aead, keyCheckPlaintext, keyCheckAD)); err != nil {
			return fmt.Errorf("state: initialize %s: %w", d.path, err)
		}
	case check != nil && d.aead == nil:
		return fmt.Errorf("state: %s is encrypted; set %s to the key it was written with", d.path, protocol.EnvStateKey)
	case check != nil:
		if _, err := unseal(d.aead, check, keyCheckAD); err != nil {
			return fmt.Errorf("state: %s was encrypted with a different key; set %s to the key it was written with", d.path, protocol.EnvStateKey)
		}
	}
	return nil
}

// Path returns the path of the database file.
func (d *Disk) Path() string { return d.path }

// Load implements Store.
func (d *Disk) Load(ctx context.Context, key Key) (Record, error) {
	return d.load(ctx, key, nil)
}

// LoadRevision implements Store.
func (d *Disk) LoadRevision(ctx context.Context, key Key, rev int64) (Record, error) {
	return d.load(ctx, key, &rev)
}

// load reads revision *rev of key, or the latest one when rev is nil.
func (d *Disk) load(ctx context.Context, key Key, rev *int64) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	actor := actorKey(key)
	var (
		rec    Record
		sealed bool
		want   int64
	)
	err := d.db.View(func(tx *bolt.Tx) error {
		if rev != nil {
			want = *rev
		} else {
			v := tx.Bucket(bucketLatest).Get(actor)
			if v == nil {
				return notFound(key)
			}
			var err error
			if want, err = decodeRevision(v); err != nil {
				return err
			}
		}
		v := tx.Bucket(bucketRevisions).Get(revisionKey(actor, want))
		if v == nil {
			if rev != nil {
				return revisionNotFound(key, want)
			}
			return corrupt("latest revision %d is missing", want)
		}
		var err error
		rec, sealed, err = decodeRecord(v)
		return err
	})
	if err != nil {
		return Record{}, d.fail("load "+key.String(), err)
	}
	if rec.Revision != want {
		return Record{}, d.fail("load "+key.String(), corrupt("revision %d holds revision %d", want, rec.Revision))
	}
	if !sealed {
		return rec, nil
	}
	if d.aead == nil {
		return Record{}, fmt.Errorf("state: load %v revision %d: the state is encrypted; set %s to the key it was written with", key, want, protocol.EnvStateKey)
	}
	if rec.Data, err = unseal(d.aead, rec.Data, revisionKey(actor, want)); err != nil {
		return Record{}, fmt.Errorf("state: load %v revision %d: cannot decrypt the state: %w", key, want, err)
	}
	return rec, nil
}

var _ BatchSaver = (*Disk)(nil)

// Save implements Store.
func (d *Disk) Save(ctx context.Context, key Key, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := d.prepareWrite(key, rec)
	if err := d.db.Update(w.put(d)); err != nil {
		return d.fail("save "+key.String(), err)
	}
	return nil
}

// SaveBatch implements BatchSaver: one bbolt transaction, so one sync to
// disk, for the whole batch.
func (d *Disk) SaveBatch(ctx context.Context, batch []Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	writes := make([]recordWrite, len(batch))
	for i, en := range batch {
		writes[i] = d.prepareWrite(en.Key, en.Record)
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		for _, w := range writes {
			if err := w.put(d)(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return d.fail(fmt.Sprintf("save %d records", len(batch)), err)
	}
	return nil
}

// recordWrite is one record, encoded (and sealed) outside the transaction.
type recordWrite struct {
	actor, revKey, value, latest []byte
	revision                     int64
}

func (d *Disk) prepareWrite(key Key, rec Record) recordWrite {
	actor := actorKey(key)
	revKey := revisionKey(actor, rec.Revision)
	rec.SavedAt = savedAt(rec.SavedAt)
	if d.aead != nil {
		// The additional data is where the record lives, so that a record
		// copied to another actor or revision does not decrypt.
		rec.Data = seal(d.aead, rec.Data, revKey)
	}
	return recordWrite{actor: actor, revKey: revKey, value: encodeRecord(rec, d.aead != nil),
		latest: appendRevision(nil, rec.Revision), revision: rec.Revision}
}

// put returns the transaction step that writes w.
func (w recordWrite) put(d *Disk) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		revs := tx.Bucket(bucketRevisions)
		if err := revs.Put(w.revKey, w.value); err != nil {
			return err
		}
		if err := tx.Bucket(bucketLatest).Put(w.actor, w.latest); err != nil {
			return err
		}
		return d.prune(revs, w.actor, w.revision)
	}
}

// Revisions implements Store. It reads no state: only each revision's
// number, time and size.
func (d *Disk) Revisions(ctx context.Context, key Key) ([]RevisionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	actor := actorKey(key)
	var list []RevisionInfo
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRevisions).Cursor()
		// Revision keys are the actor's key and 8 bytes; no other actor's
		// key starts with this one (see actorKey).
		for k, v := c.Seek(actor); k != nil && bytes.HasPrefix(k, actor); k, v = c.Next() {
			if len(k) != len(actor)+8 {
				continue
			}
			info, sealed, err := decodeRecordInfo(v)
			if err != nil {
				return fmt.Errorf("revision %x: %w", k[len(actor):], err)
			}
			if sealed && d.aead != nil {
				info.Size = max(info.Size-d.aead.NonceSize()-d.aead.Overhead(), 0)
			}
			list = append(list, info)
		}
		return nil
	})
	if err != nil {
		return nil, d.fail("list revisions of "+key.String(), err)
	}
	return list, nil
}

// scheduledAD binds an encrypted scheduled invocation to its ID.
func scheduledAD(id string) []byte { return []byte("spawn-go/state scheduled " + id) }

// hasPlaintext reports whether the database holds state or scheduled
// invocations stored unencrypted.
func hasPlaintext(tx *bolt.Tx) bool {
	found := errors.New("found")
	err := tx.Bucket(bucketRevisions).ForEach(func(_, v []byte) error {
		if rec, sealed, err := decodeRecord(v); err == nil && !sealed && (len(rec.Data) > 0 || len(rec.Tags) > 0) {
			return found
		}
		return nil
	})
	if err != nil {
		return true
	}
	err = tx.Bucket(bucketScheduled).ForEach(func(k, v []byte) error {
		if _, sealed, err := decodeScheduledSealed(string(k), v); err == nil && !sealed {
			return found
		}
		return nil
	})
	return err != nil
}

// prune deletes the revisions of actor older than the d.keep revisions up
// to latest. Revisions are keyed in numeric order, so the old ones come
// first; usually there is one to delete, or none.
func (d *Disk) prune(revs *bolt.Bucket, actor []byte, latest int64) error {
	if d.keep < 0 {
		return nil
	}
	oldest := latest - d.keep + 1 // the oldest revision kept
	c := revs.Cursor()
	for {
		// Seek again after each delete: a cursor's position after Delete
		// is not something to build on.
		k, _ := c.Seek(actor)
		if k == nil || !bytes.HasPrefix(k, actor) || len(k) != len(actor)+8 {
			return nil
		}
		rev, err := decodeRevision(k[len(actor):])
		if err != nil || rev >= oldest {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
}

// PutScheduled implements Store.
func (d *Disk) PutScheduled(ctx context.Context, s Scheduled) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkScheduled(s); err != nil {
		return err
	}
	if d.aead != nil {
		s.Request = seal(d.aead, s.Request, scheduledAD(s.ID))
	}
	value := encodeScheduled(s, d.aead != nil)
	err := d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketScheduled).Put([]byte(s.ID), value)
	})
	if err != nil {
		return d.fail("schedule "+strconv.Quote(s.ID), err)
	}
	return nil
}

// DeleteScheduled implements Store.
func (d *Disk) DeleteScheduled(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketScheduled).Delete([]byte(id))
	})
	if err != nil {
		return d.fail("unschedule "+strconv.Quote(id), err)
	}
	return nil
}

// ListScheduled implements Store.
func (d *Disk) ListScheduled(ctx context.Context) ([]Scheduled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var list []Scheduled
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketScheduled).ForEach(func(k, v []byte) error {
			s, sealed, err := decodeScheduledSealed(string(k), v)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if sealed {
				if d.aead == nil {
					return fmt.Errorf("%q: the scheduled invocation is encrypted; set %s to the key it was written with", k, protocol.EnvStateKey)
				}
				if s.Request, err = unseal(d.aead, s.Request, scheduledAD(s.ID)); err != nil {
					return fmt.Errorf("%q: cannot decrypt the scheduled invocation: %w", k, err)
				}
			}
			list = append(list, s)
			return nil
		})
	})
	if err != nil {
		return nil, d.fail("list scheduled", err)
	}
	sortScheduled(list)
	return list, nil
}

// Close implements Store. It waits for the calls in progress to finish.
func (d *Disk) Close() error {
	if d.closed.Swap(true) {
		return ErrClosed
	}
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("state: close %s: %w", d.path, err)
	}
	return nil
}

// fail gives a non-nil err the context of the operation that failed.
func (d *Disk) fail(op string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return ErrClosed
	case errors.Is(err, ErrNotFound):
		return err
	}
	return fmt.Errorf("state: %s in %s: %w", op, d.path, err)
}
