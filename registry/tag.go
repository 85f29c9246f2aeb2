// The grammar of `spawn:"…"` struct tags. This file knows nothing of
// what the keys mean: settings.go interprets them.
//
// A tag is a comma-separated list of items. An item is a bare key
// (`stateful`) or `key=value` (`name=joe`). A value that must hold a comma
// or a leading/trailing space is single-quoted: `tag='a,b'`. Inside quotes,
// `\'` and `\\` escape a quote and a backslash. Spaces around items, keys
// and unquoted values are ignored.

package registry

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tagItem is one element of a tag.
type tagItem struct {
	Key      string
	Value    string
	HasValue bool
	// Offset is the byte offset of the item in the tag, for error messages.
	Offset int
}

// String renders the item the way it would be written in a tag.
func (it tagItem) String() string {
	if !it.HasValue {
		return it.Key
	}
	return it.Key + "=" + quote(it.Value)
}

// tagSyntaxError reports a malformed tag.
type tagSyntaxError struct {
	Tag    string
	Offset int
	Msg    string
}

// Error says where the tag is malformed and how.
func (e *tagSyntaxError) Error() string {
	return fmt.Sprintf("malformed tag %q at offset %d: %s", e.Tag, e.Offset, e.Msg)
}

// parseTag splits a tag into its items, in order. Repeated keys are kept: the
// caller decides whether a key may repeat.
func parseTag(tag string) ([]tagItem, error) {
	var items []tagItem
	i := 0
	for {
		i = skipSpace(tag, i)
		if i >= len(tag) {
			if len(items) > 0 {
				return nil, &tagSyntaxError{tag, i, "trailing comma"}
			}
			return nil, nil
		}
		start := i
		for i < len(tag) && tag[i] != ',' && tag[i] != '=' {
			i++
		}
		key := strings.TrimSpace(tag[start:i])
		if err := checkKey(tag, start, key); err != nil {
			return nil, err
		}
		it := tagItem{Key: key, Offset: start}
		if i < len(tag) && tag[i] == '=' {
			i++
			val, next, err := parseValue(tag, i)
			if err != nil {
				return nil, err
			}
			it.Value, it.HasValue, i = val, true, next
		}
		items = append(items, it)
		if i >= len(tag) {
			return items, nil
		}
		// tag[i] is a comma here: parseValue stops only at one or at the end.
		i++
	}
}

func checkKey(tag string, at int, key string) error {
	if key == "" {
		return &tagSyntaxError{tag, at, "empty item (two commas in a row, or a leading comma?)"}
	}
	for j, r := range key {
		ok := r == '_' || r == '-' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
		if !ok {
			return &tagSyntaxError{tag, at + j, fmt.Sprintf("key %q holds %q; keys are letters, digits, '_', '-' and '.'", key, r)}
		}
	}
	return nil
}

// parseValue reads a value starting at i and returns it with the offset
// of the comma that ends it (or len(tag)).
func parseValue(tag string, i int) (string, int, error) {
	i = skipSpace(tag, i)
	if i < len(tag) && tag[i] == '\'' {
		open := i
		var b strings.Builder
		i++
		for {
			if i >= len(tag) {
				return "", 0, &tagSyntaxError{tag, open, "unterminated quote"}
			}
			c := tag[i]
			switch {
			case c == '\\' && i+1 < len(tag) && (tag[i+1] == '\'' || tag[i+1] == '\\'):
				b.WriteByte(tag[i+1])
				i += 2
			case c == '\'':
				i = skipSpace(tag, i+1)
				if i < len(tag) && tag[i] != ',' {
					return "", 0, &tagSyntaxError{tag, i, "text after a closing quote; quote the whole value"}
				}
				if !utf8.ValidString(b.String()) {
					return "", 0, &tagSyntaxError{tag, open, "value is not valid UTF-8"}
				}
				return b.String(), i, nil
			default:
				b.WriteByte(c)
				i++
			}
		}
	}
	start := i
	for i < len(tag) && tag[i] != ',' {
		if tag[i] == '\'' {
			return "", 0, &tagSyntaxError{tag, i, "a quote inside a value; quote the whole value: key='…'"}
		}
		i++
	}
	val := strings.TrimSpace(tag[start:i])
	if !utf8.ValidString(val) {
		return "", 0, &tagSyntaxError{tag, start, "value is not valid UTF-8"}
	}
	return val, i, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, ",'\\") && strings.TrimSpace(v) == v {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}
