package transport

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// newStatus builds a RequestStatus whose message is always encodable: proto3
// strings must be valid UTF-8, and error texts may quote bytes from a request.
func newStatus(st protocol.Status, msg string) *protocol.RequestStatus {
	return &protocol.RequestStatus{Status: st, Message: strings.ToValidUTF8(msg, "\uFFFD")}
}

// statusOnlyBody encodes an error answer that every proxy route can send:
// RegistrationResponse, SpawnResponse and InvocationResponse all carry their
// RequestStatus in field 1, so this body decodes as any of them.
func statusOnlyBody(msg string) []byte {
	b, err := proto.Marshal(&protocol.SpawnResponse{Status: newStatus(protocol.Status_ERROR, msg)})
	if err != nil {
		// Unreachable: newStatus makes the only string valid UTF-8.
		panic(fmt.Sprintf("transport: encoding a status body: %v", err))
	}
	return b
}

// snippetLen bounds how much of an unexpected body goes into an error message.
const snippetLen = 64

// snippet describes the start of an unexpected body for an error message:
// quoted when it is text, hex otherwise, and marked when cut short.
func snippet(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	cut := b
	if len(cut) > snippetLen {
		cut = cut[:snippetLen]
		// Don't split a UTF-8 sequence: it would make text look binary.
		for i := 1; i < utf8.UTFMax && !utf8.Valid(cut); i++ {
			cut = cut[:len(cut)-1]
		}
	}
	more := ""
	if len(cut) < len(b) {
		more = "..."
	}
	if isText(cut) {
		return fmt.Sprintf("%d bytes: %s%s", len(b), strconv.Quote(string(cut)), more)
	}
	if len(cut) > snippetLen/2 {
		cut, more = cut[:snippetLen/2], "..."
	}
	return fmt.Sprintf("%d bytes: hex %s%s", len(b), hex.EncodeToString(cut), more)
}

func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
