// Package domain holds the protobuf messages the examples exchange. It is
// importable, so that a program can start from an example as it is.
package domain

//go:generate go tool -modfile=../../internal/tools/go.mod buf generate
