package spawn

import (
	"errors"
	"fmt"

	"github.com/spawn-go/spawn/internal/registry"
)

// Code classifies an Error.
type Code int

// Error codes.
const (
	// CodeUnknown is the zero Code.
	CodeUnknown Code = iota
	// CodeAction: the action failed. It returned an error or panicked,
	// or its input could not be decoded; the actor's state is unchanged.
	CodeAction
	// CodeNotFound: no such actor or action.
	CodeNotFound
	// CodeInvalid: the call itself is wrong (bad options, a reply of
	// another type than asked for, a message that cannot be encoded).
	CodeInvalid
	// CodeUnavailable: the proxy could not be reached.
	CodeUnavailable
	// CodeProxy: the proxy or runtime refused or failed the request.
	CodeProxy
)

var codeNames = [...]string{"unknown", "action failed", "not found", "invalid call", "unavailable", "proxy error"}

// String returns the code's name, as in "not found".
func (c Code) String() string {
	if c < 0 || int(c) >= len(codeNames) {
		return fmt.Sprintf("Code(%d)", int(c))
	}
	return codeNames[c]
}

// Error is the error every call to an actor returns. Use errors.As to
// get at it:
//
//	var serr *spawn.Error
//	if errors.As(err, &serr) && serr.Code == spawn.CodeAction { … }
type Error struct {
	// Code says what kind of failure it is.
	Code Code
	// Actor and Action name the call that failed, when known.
	Actor  string
	Action string
	// Message is the original message: for CodeAction, the text of the
	// error the action returned.
	Message string

	cause error
}

// Error returns "spawn: actor.action: message".
func (e *Error) Error() string {
	where := e.Actor
	if e.Action != "" {
		where += "." + e.Action
	}
	if where == "" {
		return "spawn: " + e.Message
	}
	return "spawn: " + where + ": " + e.Message
}

// Unwrap returns the underlying error, if any (a network error, a context error).
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, &spawn.Error{Code: c}) match any Error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Actor == "" && t.Action == ""
}

// ValidationError lists every problem Validate, Start or Run found in the
// actor definitions, so they can all be fixed at once.
type ValidationError struct {
	// Problems are in the order of the actors, then of their fields and
	// methods.
	Problems []Problem
}

// Problem is one thing wrong with an actor definition.
type Problem struct {
	// Where names the type, and the method or field when there is one,
	// like "main.Joe.SetLanguage".
	Where string
	// Msg says what is wrong and what to write instead.
	Msg string
}

// Error lists the problems, one per line when there are several.
func (e *ValidationError) Error() string {
	return (&registry.Error{Problems: e.problems()}).Error()
}

func (e *ValidationError) problems() []registry.Problem {
	out := make([]registry.Problem, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = registry.Problem{Where: p.Where, Msg: p.Msg}
	}
	return out
}

func validationError(err error) error {
	var re *registry.Error
	if !errors.As(err, &re) {
		return err
	}
	ve := &ValidationError{Problems: make([]Problem, len(re.Problems))}
	for i, p := range re.Problems {
		ve.Problems[i] = Problem{Where: p.Where, Msg: p.Msg}
	}
	return ve
}
