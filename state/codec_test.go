package state

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		rec    Record
		sealed bool
	}{
		{"zero", Record{}, false},
		{"full", Record{
			Revision: 42,
			TypeURL:  "type.googleapis.com/domain.JoeState",
			Data:     []byte("\x00state\xff"),
			Tags:     map[string]string{"b": "2", "a": "1", "": ""},
			SavedAt:  time.Date(2026, 5, 1, 12, 30, 0, 123456789, time.UTC),
		}, false},
		{"sealed", Record{Revision: 1, Data: []byte("ciphertext")}, true},
		{"sealed empty", Record{Revision: 1}, true},
		{"negative revision", Record{Revision: -1 << 63}, false},
		{"before 1970", Record{SavedAt: time.Date(1500, 1, 1, 0, 0, 0, 1, time.UTC)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeRecord(tt.rec, tt.sealed)
			got, sealed, err := decodeRecord(b)
			if err != nil {
				t.Fatalf("decodeRecord: %v", err)
			}
			if sealed != tt.sealed {
				t.Errorf("sealed = %v, want %v", sealed, tt.sealed)
			}
			checkRecord(t, got, tt.rec)
			if !got.SavedAt.Equal(tt.rec.SavedAt) {
				t.Errorf("SavedAt = %v, want %v", got.SavedAt, tt.rec.SavedAt)
			}
		})
	}
}

// A record written without a time (fields 6 and 7) reads back with the
// zero time, which means "unknown", and lists the same way.
func TestRecordWithoutTime(t *testing.T) {
	b := []byte{formatVersion}
	b = protowire.AppendTag(b, recRevision, protowire.VarintType)
	b = protowire.AppendVarint(b, 4)
	b = protowire.AppendTag(b, recData, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("state"))
	rec, _, err := decodeRecord(b)
	if err != nil {
		t.Fatalf("decodeRecord: %v", err)
	}
	if rec.Revision != 4 || !rec.SavedAt.IsZero() {
		t.Errorf("record = %+v, want revision 4 and a zero SavedAt", rec)
	}
	info, sealed, err := decodeRecordInfo(b)
	if err != nil || sealed {
		t.Fatalf("decodeRecordInfo: %v, sealed %v", err, sealed)
	}
	if want := (RevisionInfo{Revision: 4, Size: 5}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
}

func TestRecordInfo(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 0, 9, time.UTC)
	b := encodeRecord(Record{Revision: 7, TypeURL: "t", Data: []byte("12345678"), Tags: map[string]string{"a": "b"}, SavedAt: at}, true)
	info, sealed, err := decodeRecordInfo(b)
	if err != nil {
		t.Fatalf("decodeRecordInfo: %v", err)
	}
	if !sealed || info.Revision != 7 || info.Size != 8 || !info.SavedAt.Equal(at) {
		t.Errorf("info = %+v, sealed %v; want revision 7, size 8, %v, sealed", info, sealed, at)
	}
	if _, _, err := decodeRecordInfo(b[:len(b)-3]); !errors.Is(err, errCorrupt) {
		t.Errorf("truncated: err = %v, want errCorrupt", err)
	}
}

func TestRecordEncodingIsDeterministic(t *testing.T) {
	rec := Record{Revision: 1, Tags: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}}
	first := encodeRecord(rec, false)
	for range 20 {
		if b := encodeRecord(rec, false); !bytes.Equal(b, first) {
			t.Fatalf("two encodings of one record differ:\n%x\n%x", first, b)
		}
	}
}

func TestDecodeRecordSkipsUnknownFields(t *testing.T) {
	b := encodeRecord(Record{Revision: 3, TypeURL: "t"}, false)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendString(b, "added by a later version")
	b = protowire.AppendTag(b, 100, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	got, _, err := decodeRecord(b)
	if err != nil {
		t.Fatalf("decodeRecord: %v", err)
	}
	checkRecord(t, got, Record{Revision: 3, TypeURL: "t"})
}

func TestDecodeRecordErrors(t *testing.T) {
	valid := encodeRecord(Record{Revision: 1, TypeURL: "t", Data: []byte("data")}, false)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown format", append([]byte{2}, valid[1:]...)},
		{"truncated", valid[:len(valid)-3]},
		{"bad tag", []byte{formatVersion, 0x80}},
		{"field zero", []byte{formatVersion, 0x00, 0x01}},
		{"wrong wire type", protowire.AppendVarint(protowire.AppendTag([]byte{formatVersion}, recTypeURL, protowire.VarintType), 1)},
		{"bad tag entry", protowire.AppendBytes(protowire.AppendTag([]byte{formatVersion}, recTag, protowire.BytesType), []byte{0xff})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec, _, err := decodeRecord(tt.b); err == nil {
				t.Errorf("decodeRecord(%x) = %+v, want an error", tt.b, rec)
			}
		})
	}
	if _, _, err := decodeRecord(valid[:len(valid)-3]); !errors.Is(err, errCorrupt) {
		t.Errorf("truncated record: err = %v, want errCorrupt", err)
	}
}

func TestScheduledRoundTrip(t *testing.T) {
	for _, s := range []Scheduled{
		{ID: "a", At: time.Date(2026, 5, 1, 0, 0, 0, 999, time.UTC), Request: []byte("req")},
		{ID: "zero"},
	} {
		got, err := decodeScheduled(s.ID, encodeScheduled(s, false))
		if err != nil {
			t.Fatalf("decodeScheduled: %v", err)
		}
		if got.ID != s.ID || !got.At.Equal(s.At) || !bytes.Equal(got.Request, s.Request) {
			t.Errorf("round trip of %+v = %+v", s, got)
		}
	}
}

func TestRevisionKeyOrder(t *testing.T) {
	actor := actorKey(Key{System: "s", Name: "n"})
	revs := []int64{-1 << 63, -2, -1, 0, 1, 2, 255, 256, 1<<63 - 1}
	var keys [][]byte
	for _, rev := range revs {
		k := revisionKey(actor, rev)
		got, err := decodeRevision(k[len(actor):])
		if err != nil || got != rev {
			t.Errorf("decodeRevision(revisionKey(%d)) = %d, %v", rev, got, err)
		}
		keys = append(keys, k)
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Errorf("revision keys are not in numeric order: %x", keys)
	}
}

// FuzzDecodeRecord checks that the decoder survives any bytes, since it
// parses what it finds on disk, and that what it accepts encodes back to
// the same record.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{formatVersion})
	f.Add(encodeRecord(Record{}, false))
	f.Add(encodeRecord(Record{
		Revision: 9,
		TypeURL:  "type.googleapis.com/x.Y",
		Data:     []byte("data"),
		Tags:     map[string]string{"k": "v", "": "empty"},
		SavedAt:  time.Unix(1700000000, 5),
	}, false))
	f.Add(encodeRecord(Record{Revision: -1, Data: bytes.Repeat([]byte{0xaa}, 40)}, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		work := bytes.Clone(b)
		rec, sealed, err := decodeRecord(work)
		if !bytes.Equal(work, b) {
			t.Fatal("decodeRecord modified its input")
		}
		if err != nil {
			return
		}
		// The record must not alias its input, a view of the file.
		clear(work)
		if want, _, _ := decodeRecord(b); !bytes.Equal(rec.Data, want.Data) || rec.TypeURL != want.TypeURL {
			t.Fatal("decoded record aliases the input")
		}
		again, sealedAgain, err := decodeRecord(encodeRecord(rec, sealed))
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if again.Revision != rec.Revision || again.TypeURL != rec.TypeURL || sealedAgain != sealed ||
			!bytes.Equal(again.Data, rec.Data) || !maps.Equal(again.Tags, rec.Tags) || !again.SavedAt.Equal(rec.SavedAt) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", rec, again)
		}
	})
}

// FuzzDecodeScheduled checks that the scheduled-invocation decoder survives
// any bytes.
func FuzzDecodeScheduled(f *testing.F) {
	f.Add(encodeScheduled(Scheduled{ID: "a", At: time.Unix(1, 2), Request: []byte("r")}, false))
	f.Add([]byte{formatVersion, 0x1a, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeScheduled("id", b)
		if err != nil {
			return
		}
		again, err := decodeScheduled("id", encodeScheduled(s, false))
		if err != nil || !again.At.Equal(s.At) || !bytes.Equal(again.Request, s.Request) {
			t.Fatalf("round trip of %+v = %+v, %v", s, again, err)
		}
	})
}
