package protocol

import "google.golang.org/protobuf/reflect/protoreflect"

// TypeURLPrefix starts the type URL of every Any that Spawn peers send.
const TypeURLPrefix = "type.googleapis.com/"

// TypeURL returns the Any type URL of messages named name.
func TypeURL(name protoreflect.FullName) string { return TypeURLPrefix + string(name) }
