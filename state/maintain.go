package state

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Encrypt encrypts under key the state and the scheduled invocations that
// the store in dir holds unencrypted, records the key as the store's, and
// then compacts the file (see Compact), so that no plaintext copy is left
// in it. Blocks the file system freed may still hold old bytes; on a disk
// that matters, encrypt from the start. The store must not be open.
func Encrypt(dir string, key []byte) error {
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, dbFileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("state: encrypt: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("state: encrypt %s (is a spawn runtime using it?): %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("%s is not a spawn state store", path)
		}
		if check := meta.Get(metaKeyCheck); check != nil {
			if _, err := unseal(aead, check, keyCheckAD); err != nil {
				return fmt.Errorf("%s is already encrypted with another key", path)
			}
		}
		type kv struct{ k, v []byte }
		var revs, scheds []kv
		err := tx.Bucket(bucketRevisions).ForEach(func(k, v []byte) error {
			rec, sealed, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("revision %x: %w", k, err)
			}
			if !sealed {
				rec.Data = seal(aead, rec.Data, k)
				revs = append(revs, kv{append([]byte(nil), k...), encodeRecord(rec, true)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketScheduled).ForEach(func(k, v []byte) error {
			s, sealed, err := decodeScheduledSealed(string(k), v)
			if err != nil {
				return fmt.Errorf("scheduled %q: %w", k, err)
			}
			if !sealed {
				s.Request = seal(aead, s.Request, scheduledAD(s.ID))
				scheds = append(scheds, kv{append([]byte(nil), k...), encodeScheduled(s, true)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range revs {
			if err := tx.Bucket(bucketRevisions).Put(r.k, r.v); err != nil {
				return err
			}
		}
		for _, r := range scheds {
			if err := tx.Bucket(bucketScheduled).Put(r.k, r.v); err != nil {
				return err
			}
		}
		return meta.Put(metaKeyCheck, seal(aead, keyCheckPlaintext, keyCheckAD))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("state: encrypt %s: %w", path, err)
	}
	return Compact(dir)
}

// Compact rewrites the store's file in dir without the free space that
// deleted revisions (see WithKeepRevisions) and rewritten values leave in
// it, and replaces the file atomically. The store must not be open.
func Compact(dir string) error {
	path := filepath.Join(dir, dbFileName)
	tmp := path + ".compact"
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("state: compact %s (is a spawn runtime using it?): %w", path, err)
	}
	defer src.Close()
	_ = os.Remove(tmp) // left by an earlier attempt that failed
	dst, err := bolt.Open(tmp, 0o600, nil)
	if err != nil {
		return fmt.Errorf("state: compact %s: %w", path, err)
	}
	err = bolt.Compact(dst, src, 4<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("state: compact %s: %w", path, err)
	}
	return nil
}
