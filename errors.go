package spawn

import (
	"context"
	"errors"
	"fmt"

	"github.com/spawn-go/spawn/registry"
)

// Code classifies an Error.
type Code int

// Error codes.
const (
	// CodeUnknown is the zero Code, and what CodeOf says of an error that
	// is not an *Error.
	CodeUnknown Code = iota
	// CodeAction: the action failed. It returned an error or panicked, or
	// its input could not be decoded. Its state and tags are unchanged and
	// no workflow ran.
	CodeAction
	// CodeNotFound: no such actor or action. Nothing changed. Retrying
	// the same call gives the same answer: fix the name, or spawn the
	// instance first.
	CodeNotFound
	// CodeInvalid: the call itself is wrong (bad options, a message that
	// cannot be encoded): it was not sent, or was refused before it ran.
	// Also a reply of another type than asked for, which is found only
	// once the action has run. Do not retry.
	CodeInvalid
	// CodeUnavailable: the proxy could not be reached, or is stopping; the
	// call did not run. Retrying is safe.
	CodeUnavailable
	// CodeProxy: the proxy or runtime refused or failed the request
	// before applying anything (a registration or spawn it refused, a host
	// it could not call, a reply it could not use): with spawn-go's
	// runtime, nothing changed. The real Spawn proxy reports every failure
	// this way, its timeouts included, after which a call may still be
	// applied; so Retryable is false, and a caller that knows its proxy is
	// spawn-go's may retry.
	CodeProxy
	// CodeCanceled: the call's context ended before the answer came;
	// errors.Is(err, context.Canceled) or errors.Is(err,
	// context.DeadlineExceeded) says which. A call that had been sent may
	// still have run: its outcome is unknown, as with CodeOutcomeUnknown,
	// unless the message says it was not applied.
	CodeCanceled
	// CodeOutcomeUnknown: the call reached the actor and no answer says
	// whether its change was applied: the connection to the proxy broke
	// after the call was sent, or a pipe or forward failed after the first
	// actor had applied its change. Retrying may apply the call twice:
	// read the actor's state first, or make the action idempotent (for
	// example by passing a request ID that the action remembers).
	CodeOutcomeUnknown
	// CodeTimeout: the call's time limit (the request-timeout metadata)
	// passed before the actor applied the call, which was then dropped:
	// nothing changed, and retrying is safe. A caller whose own context
	// ends first gets CodeCanceled instead.
	CodeTimeout
	// CodeOverloaded: a limit was reached (the actor's mailbox is full, or
	// too many bytes are in flight) and the call was refused before it
	// ran. Nothing changed: retry after a pause, backing off.
	CodeOverloaded
	// CodeNotReady: the proxy does not know the actor yet, typically
	// because it has just started and the actor's host has not registered
	// again. Nothing changed: retry shortly. A name that stays unknown
	// becomes CodeNotFound.
	CodeNotReady
)

var codeNames = [...]string{"unknown", "action failed", "not found", "invalid call", "unavailable", "proxy error", "canceled",
	"outcome unknown", "timeout", "overloaded", "not ready"}

// Retryable reports whether a call that failed with code c may simply be
// sent again: it did not run, or ran and changed nothing. It is false for
// CodeAction (the action refused; it would refuse again unless something
// changed), CodeNotFound and CodeInvalid (the same call fails the same
// way), and for CodeCanceled, CodeOutcomeUnknown and CodeProxy, whose call
// may have been applied.
func (c Code) Retryable() bool {
	switch c {
	case CodeUnavailable, CodeTimeout, CodeOverloaded, CodeNotReady:
		return true
	}
	return false
}

// String returns the code's name, as in "not found".
func (c Code) String() string {
	if c < 0 || int(c) >= len(codeNames) {
		return fmt.Sprintf("Code(%d)", int(c))
	}
	return codeNames[c]
}

// CodeOf returns the Code of the first *Error in err's chain, or
// CodeUnknown when there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknown
}

// Error is the error every call to an actor returns. Use CodeOf for its
// code, or errors.As to get at it. An action's error crosses to the caller
// as its message, so errors.Is with the action's own sentinel errors does
// not match; compare the Code, and the Message if you must:
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

// Unwrap returns the underlying error, if any: a network error, or the
// context's error for CodeCanceled.
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, &spawn.Error{Code: c}) match any Error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Actor == "" && t.Action == ""
}

// canceled returns the CodeCanceled error for a call whose context ended.
// why, when not empty, says where the call was when it ended; notApplied
// says the runtime knows the call was dropped unapplied.
func canceled(actor, action string, ctxErr error, why string, notApplied bool) *Error {
	msg := "the call's context ended before the answer came (" + ctxErr.Error() + ")"
	if why != "" {
		msg += ": " + why
	}
	if notApplied {
		msg += "; it was not applied"
	} else {
		msg += "; the action may have run"
	}
	return &Error{Code: CodeCanceled, Actor: actor, Action: action, Message: msg, cause: ctxErr}
}

// notSent returns the CodeCanceled error for a call whose context had
// ended before it was sent.
func notSent(actor, action string, ctxErr error) *Error {
	msg := "the call's context had ended (" + ctxErr.Error() + "); the call was not sent"
	return &Error{Code: CodeCanceled, Actor: actor, Action: action, Message: msg, cause: ctxErr}
}

// contextError returns ctx's error, or the context error err wraps, or nil.
func contextError(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return nil
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
	ps := make([]registry.Problem, len(e.Problems))
	for i, p := range e.Problems {
		ps[i] = registry.Problem{Where: p.Where, Msg: p.Msg}
	}
	return (&registry.Error{Problems: ps}).Error()
}

// validationError turns the registry's error into a *ValidationError.
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
