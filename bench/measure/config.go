package measure

import (
	"fmt"
	"os"
	"time"
)

// Config is what every group is run with.
type Config struct {
	// Smoke runs a few iterations only, to check that everything works.
	Smoke bool
	// Rounds is how many times each comparison is repeated, interleaved.
	Rounds int
	// Dur is how long one timed measurement runs.
	Dur time.Duration
	// ProfileDir, when set, receives CPU and heap profiles of the
	// spawn-go side of each cost.
	ProfileDir string
}

// Logf reports progress on stderr.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
