// Package domain holds the protobuf messages the examples exchange.
package domain

//go:generate go tool -modfile=../../../internal/tools/go.mod buf generate
