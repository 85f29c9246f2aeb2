package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The on-disk values are one format byte followed by a protobuf message
// written by hand with protowire. Protobuf framing lets a later version add
// fields that this one skips; the format byte is for changes that cannot be
// made compatibly.
const formatVersion = 1

// Field numbers of a record.
const (
	recRevision   protowire.Number = 1
	recTypeURL    protowire.Number = 2
	recData       protowire.Number = 3 // plaintext state
	recSealedData protowire.Number = 4 // nonce || AES-GCM ciphertext of the state
	recTag        protowire.Number = 5 // repeated; a message of tagKey and tagValue
	recSavedSec   protowire.Number = 6
	recSavedNanos protowire.Number = 7

	tagKey   protowire.Number = 1
	tagValue protowire.Number = 2
)

// Field numbers of a scheduled invocation. Its ID is the database key.
const (
	schedAtSec         protowire.Number = 1
	schedAtNanos       protowire.Number = 2
	schedRequest       protowire.Number = 3 // plaintext request
	schedSealedRequest protowire.Number = 4 // nonce || AES-GCM ciphertext of the request
)

// errCorrupt marks values that cannot be decoded. The decoders' errors
// have no "state:" prefix: the store adds it with the operation and path.
var errCorrupt = errors.New("corrupt value")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCorrupt}, args...)...)
}

// encodeRecord encodes rec. When sealed is true, rec.Data already holds the
// encrypted state and is stored as such.
func encodeRecord(rec Record, sealed bool) []byte {
	size := 1 + 40 + len(rec.TypeURL) + len(rec.Data)
	for k, v := range rec.Tags {
		size += 8 + len(k) + len(v)
	}
	b := make([]byte, 0, size)
	b = append(b, formatVersion)
	b = protowire.AppendTag(b, recRevision, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(rec.Revision))
	if rec.TypeURL != "" {
		b = protowire.AppendTag(b, recTypeURL, protowire.BytesType)
		b = protowire.AppendString(b, rec.TypeURL)
	}
	if len(rec.Data) > 0 || sealed {
		field := recData
		if sealed {
			field = recSealedData
		}
		b = protowire.AppendTag(b, field, protowire.BytesType)
		b = protowire.AppendBytes(b, rec.Data)
	}
	// Sorted, so that equal records encode to equal bytes.
	for _, k := range slices.Sorted(maps.Keys(rec.Tags)) {
		v := rec.Tags[k]
		n := protowire.SizeTag(tagKey) + protowire.SizeBytes(len(k)) +
			protowire.SizeTag(tagValue) + protowire.SizeBytes(len(v))
		b = protowire.AppendTag(b, recTag, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		b = protowire.AppendTag(b, tagKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, tagValue, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	b = appendTime(b, recSavedSec, recSavedNanos, rec.SavedAt)
	return b
}

// decodeRecord decodes a value written by encodeRecord. The result shares no
// memory with b, which may be a view of the database file. sealed reports
// that rec.Data is still encrypted.
func decodeRecord(b []byte) (rec Record, sealed bool, err error) {
	b, err = checkVersion(b)
	if err != nil {
		return Record{}, false, err
	}
	var sec, nanos uint64
	var hasTime bool
	err = eachField(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case recRevision:
			v, n, err := consumeVarint(num, typ, b)
			rec.Revision = int64(v)
			return n, err
		case recTypeURL:
			v, n, err := consumeBytes(num, typ, b)
			rec.TypeURL = string(v)
			return n, err
		case recData, recSealedData:
			v, n, err := consumeBytes(num, typ, b)
			rec.Data = bytes.Clone(v)
			sealed = num == recSealedData
			return n, err
		case recTag:
			v, n, err := consumeBytes(num, typ, b)
			if err != nil {
				return n, err
			}
			k, val, err := decodeTag(v)
			if err != nil {
				return n, err
			}
			if rec.Tags == nil {
				rec.Tags = make(map[string]string)
			}
			rec.Tags[k] = val
			return n, nil
		case recSavedSec:
			hasTime = true
			v, n, err := consumeVarint(num, typ, b)
			sec = v
			return n, err
		case recSavedNanos:
			hasTime = true
			v, n, err := consumeVarint(num, typ, b)
			nanos = v
			return n, err
		}
		return skipField(num, typ, b)
	})
	if err != nil {
		return Record{}, false, err
	}
	if hasTime {
		if rec.SavedAt, err = decodeTime(sec, nanos); err != nil {
			return Record{}, false, err
		}
	}
	return rec, sealed, nil
}

// decodeRecordInfo decodes what a listing of revisions shows of a value
// written by encodeRecord: its number, time and the size of its data,
// without copying the data. sealed reports that the size is that of the
// encrypted data.
func decodeRecordInfo(b []byte) (info RevisionInfo, sealed bool, err error) {
	b, err = checkVersion(b)
	if err != nil {
		return RevisionInfo{}, false, err
	}
	var sec, nanos uint64
	var hasTime bool
	err = eachField(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case recRevision:
			v, n, err := consumeVarint(num, typ, b)
			info.Revision = int64(v)
			return n, err
		case recData, recSealedData:
			v, n, err := consumeBytes(num, typ, b)
			info.Size = len(v)
			sealed = num == recSealedData
			return n, err
		case recSavedSec, recSavedNanos:
			hasTime = true
			v, n, err := consumeVarint(num, typ, b)
			if num == recSavedSec {
				sec = v
			} else {
				nanos = v
			}
			return n, err
		}
		return skipField(num, typ, b)
	})
	if err != nil {
		return RevisionInfo{}, false, err
	}
	if hasTime {
		if info.SavedAt, err = decodeTime(sec, nanos); err != nil {
			return RevisionInfo{}, false, err
		}
	}
	return info, sealed, nil
}

func decodeTag(b []byte) (key, value string, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case tagKey:
			v, n, err := consumeBytes(num, typ, b)
			key = string(v)
			return n, err
		case tagValue:
			v, n, err := consumeBytes(num, typ, b)
			value = string(v)
			return n, err
		}
		return skipField(num, typ, b)
	})
	return key, value, err
}

// encodeScheduled encodes s without its ID, which is the database key.
// When sealed is true, s.Request already holds the encrypted request.
func encodeScheduled(s Scheduled, sealed bool) []byte {
	b := make([]byte, 0, 1+24+len(s.Request))
	b = append(b, formatVersion)
	b = appendTime(b, schedAtSec, schedAtNanos, s.At)
	field := schedRequest
	if sealed {
		field = schedSealedRequest
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendBytes(b, s.Request)
	return b
}

// decodeScheduled decodes a value written by encodeScheduled. The result
// shares no memory with b.
func decodeScheduled(id string, b []byte) (Scheduled, error) {
	s, sealed, err := decodeScheduledSealed(id, b)
	if err == nil && sealed {
		err = corrupt("the request is encrypted")
	}
	return s, err
}

// decodeScheduledSealed is decodeScheduled that also reports whether
// s.Request is still encrypted.
func decodeScheduledSealed(id string, b []byte) (s Scheduled, sealed bool, err error) {
	s, sealed, err = decodeScheduledFields(id, b)
	return s, sealed, err
}

func decodeScheduledFields(id string, b []byte) (Scheduled, bool, error) {
	sealed := false
	b, err := checkVersion(b)
	if err != nil {
		return Scheduled{}, false, err
	}
	s := Scheduled{ID: id}
	var sec, nanos uint64
	err = eachField(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case schedAtSec:
			v, n, err := consumeVarint(num, typ, b)
			sec = v
			return n, err
		case schedAtNanos:
			v, n, err := consumeVarint(num, typ, b)
			nanos = v
			return n, err
		case schedRequest, schedSealedRequest:
			v, n, err := consumeBytes(num, typ, b)
			s.Request = bytes.Clone(v)
			sealed = num == schedSealedRequest
			return n, err
		}
		return skipField(num, typ, b)
	})
	if err != nil {
		return Scheduled{}, false, err
	}
	if s.At, err = decodeTime(sec, nanos); err != nil {
		return Scheduled{}, false, err
	}
	return s, sealed, nil
}

// appendTime stores t as seconds and nanoseconds, like
// google.protobuf.Timestamp, because UnixNano cannot represent every
// time.Time (the zero time among them).
func appendTime(b []byte, secField, nanosField protowire.Number, t time.Time) []byte {
	b = protowire.AppendTag(b, secField, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Unix()))
	b = protowire.AppendTag(b, nanosField, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.Nanosecond()))
}

// decodeTime reverses appendTime.
func decodeTime(sec, nanos uint64) (time.Time, error) {
	// appendTime writes nanoseconds below one second; anything else would
	// not encode back to the same bytes.
	if nanos >= uint64(time.Second) {
		return time.Time{}, corrupt("nanoseconds %d out of range", nanos)
	}
	return time.Unix(int64(sec), int64(nanos)), nil
}

func checkVersion(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, corrupt("empty value")
	}
	if b[0] != formatVersion {
		return nil, fmt.Errorf("value has format %d, this version of spawn reads format %d", b[0], formatVersion)
	}
	return b[1:], nil
}

// eachField calls fn for every field of the message in b. fn returns the
// length of the field's value.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, b []byte) (int, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return corrupt("%v", protowire.ParseError(n))
		}
		b = b[n:]
		n, err := fn(num, typ, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func consumeVarint(num protowire.Number, typ protowire.Type, b []byte) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, corrupt("field %d has wire type %d, want varint", num, typ)
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, corrupt("field %d: %v", num, protowire.ParseError(n))
	}
	return v, n, nil
}

func consumeBytes(num protowire.Number, typ protowire.Type, b []byte) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, corrupt("field %d has wire type %d, want bytes", num, typ)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, corrupt("field %d: %v", num, protowire.ParseError(n))
	}
	return v, n, nil
}

// skipField steps over a field this version does not know.
func skipField(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, corrupt("field %d: %v", num, protowire.ParseError(n))
	}
	return n, nil
}

// actorKey encodes k as a database key. Each part is length-prefixed, so no
// two keys encode alike and no encoded key is a prefix of another: that
// keeps the revision keys built on it unambiguous.
func actorKey(k Key) []byte {
	b := make([]byte, 0, 3+len(k.System)+len(k.Name)+len(k.Parent))
	b = protowire.AppendString(b, k.System)
	b = protowire.AppendString(b, k.Name)
	return protowire.AppendString(b, k.Parent)
}

// appendRevision appends rev so that byte order is numeric order; the sign
// bit is flipped so that negative revisions sort first.
func appendRevision(b []byte, rev int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(rev)^(1<<63))
}

func decodeRevision(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, corrupt("revision is %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), nil
}

// revisionKey is the database key of one revision of an actor: its
// actorKey followed by the revision.
func revisionKey(actor []byte, rev int64) []byte {
	return appendRevision(slices.Clip(actor), rev)
}
