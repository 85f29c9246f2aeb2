package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// Shown is a state as the page shows it.
type Shown struct {
	// TypeURL is the state's type URL, and Size the size of its bytes.
	TypeURL string
	Size    int
	// JSON: Text is the state in the protobuf JSON mapping, indented;
	// otherwise Text is a hex dump of its bytes, and Why says why.
	JSON bool
	Text string
	Why  string
	// Cut: Text shows the first maxShown bytes only.
	Cut bool
}

// maxShown bounds the text shown of one state.
const maxShown = 256 << 10

// show renders st as JSON when types knows its message type, and as a hex
// dump of its bytes otherwise. A nil types knows none.
func show(st *anypb.Any, types *protoregistry.Types) Shown {
	s := Shown{TypeURL: st.GetTypeUrl(), Size: len(st.GetValue())}
	if types == nil {
		s.Why = "the runtime does not know the message type"
		return s.dump(st.GetValue())
	}
	mt, err := types.FindMessageByURL(st.GetTypeUrl())
	if err != nil {
		s.Why = "the message type " + typeName(st) + " is not linked into this program"
		return s.dump(st.GetValue())
	}
	m := mt.New().Interface()
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(st.GetValue(), m); err != nil {
		s.Why = fmt.Sprintf("the bytes are not a %s: %v", mt.Descriptor().FullName(), err)
		return s.dump(st.GetValue())
	}
	j, err := protojson.MarshalOptions{Resolver: types}.Marshal(m)
	if err != nil {
		s.Why = fmt.Sprintf("the %s cannot be written as JSON: %v", mt.Descriptor().FullName(), err)
		return s.dump(st.GetValue())
	}
	// protojson varies its spacing on purpose; Indent settles it, so that
	// two revisions compare line by line.
	var b bytes.Buffer
	if err := json.Indent(&b, j, "", "  "); err != nil {
		b.Reset()
		b.Write(j)
	}
	s.JSON = true
	s.Text, s.Cut = cut(b.String())
	return s
}

func (s Shown) dump(data []byte) Shown {
	s.Text, s.Cut = cut(hexDump(data))
	return s
}

func cut(s string) (string, bool) {
	if len(s) <= maxShown {
		return s, false
	}
	s = s[:maxShown]
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s, true
}

// hexDump shows data 16 bytes a line: the offset, the bytes in hex, and
// the printable ones as text.
func hexDump(data []byte) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		fmt.Fprintf(&b, "%08x  ", off)
		for i := range 16 {
			switch {
			case i < len(line):
				fmt.Fprintf(&b, "%02x ", line[i])
			default:
				b.WriteString("   ")
			}
			if i == 7 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(" |")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString("|\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
