package registry

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with an actor definition.
type Problem struct {
	// Where names the type, and the method or field when there is one,
	// e.g. "main.Joe.SetLanguage".
	Where string
	// What is wrong and what to write instead.
	Msg string
}

// String returns "where: message".
func (p Problem) String() string { return p.Where + ": " + p.Msg }

// Error lists every problem found in a set of actor definitions, so a user
// fixes them all in one go instead of one per start.
type Error struct {
	Problems []Problem
}

// Error lists the problems, one per line when there are several.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "spawn: invalid actor definition: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "spawn: %d problems in actor definitions:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems while a definition is checked.
type problems struct {
	list []Problem
}

func (ps *problems) add(where, format string, args ...any) {
	ps.list = append(ps.list, Problem{Where: where, Msg: fmt.Sprintf(format, args...)})
}
