// Package testpb holds protobuf messages for the SDK's own tests.
package testpb

//go:generate go tool -modfile=../tools/go.mod buf generate
