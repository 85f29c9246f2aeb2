package registry

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		tag  string
		want []tagItem
	}{
		{"", nil},
		{"   ", nil},
		{"state", []tagItem{{Key: "state"}}},
		{"name=joe,stateful,channel=test,timer=1000", []tagItem{
			{Key: "name", Value: "joe", HasValue: true},
			{Key: "stateful", Offset: 9},
			{Key: "channel", Value: "test", HasValue: true, Offset: 18},
			{Key: "timer", Value: "1000", HasValue: true, Offset: 31},
		}},
		{" name = joe , kind=unnamed ", []tagItem{
			{Key: "name", Value: "joe", HasValue: true, Offset: 1},
			{Key: "kind", Value: "unnamed", HasValue: true, Offset: 14},
		}},
		{"tag='a,b=c'", []tagItem{{Key: "tag", Value: "a,b=c", HasValue: true}}},
		{`tag='it\'s \\ ok' , x`, []tagItem{{Key: "tag", Value: `it's \ ok`, HasValue: true}, {Key: "x", Offset: 20}}},
		{"name=", []tagItem{{Key: "name", HasValue: true}}},
		{"name=''", []tagItem{{Key: "name", HasValue: true}}},
		{"channel=a:b,channel=c", []tagItem{
			{Key: "channel", Value: "a:b", HasValue: true},
			{Key: "channel", Value: "c", HasValue: true, Offset: 12},
		}},
		{"timer=2s", []tagItem{{Key: "timer", Value: "2s", HasValue: true}}},
		{"a=b=c", []tagItem{{Key: "a", Value: "b=c", HasValue: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			got, err := parseTag(tt.tag)
			if err != nil {
				t.Fatalf("parseTag(%q): %v", tt.tag, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseTag(%q)\n got %+v\nwant %+v", tt.tag, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		tag, msg string
	}{
		{",", "empty item"},
		{"a,,b", "empty item"},
		{"a,", "trailing comma"},
		{"=x", "empty item"},
		{"na me=x", "keys are letters"},
		{"tag='abc", "unterminated quote"},
		{"tag='a'b", "text after a closing quote"},
		{"tag=a'b'", "a quote inside a value"},
		{"n=\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			_, err := parseTag(tt.tag)
			var se *tagSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("parseTag(%q) = %v, want a *tagSyntaxError", tt.tag, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("parseTag(%q) error %q does not say %q", tt.tag, err, tt.msg)
			}
		})
	}
}

func TestItemStringRoundTrip(t *testing.T) {
	for _, v := range []string{"joe", "a,b", "it's", `back\slash`, " padded ", ""} {
		it := tagItem{Key: "k", Value: v, HasValue: true}
		got, err := parseTag(it.String())
		if err != nil || len(got) != 1 || got[0].Value != v {
			t.Fatalf("round trip of %q through %q gave %+v, %v", v, it.String(), got, err)
		}
	}
}

func FuzzTag(f *testing.F) {
	for _, s := range []string{"name=joe,stateful,channel=test,timer=1000", "tag='a,b'", `x='\'',y`, ",", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		items, err := parseTag(tag)
		if err != nil {
			var se *tagSyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tag) {
				t.Fatalf("parseTag(%q): bad error %v", tag, err)
			}
			return
		}
		// Rendering the items and parsing again must give the same items.
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = it.String()
		}
		again, err := parseTag(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", strings.Join(parts, ","), tag, err)
		}
		if len(again) != len(items) {
			t.Fatalf("re-parse changed item count: %d != %d", len(again), len(items))
		}
		for i := range items {
			if again[i].Key != items[i].Key || again[i].Value != items[i].Value || again[i].HasValue != items[i].HasValue {
				t.Fatalf("re-parse changed item %d: %+v != %+v", i, again[i], items[i])
			}
		}
	})
}
