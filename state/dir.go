package state

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/spawn-go/spawn/protocol"
)

// DefaultDir returns the directory the runtime keeps its state in when it
// is given none:
//
//  1. $SPAWN_DATA_DIR, when set;
//  2. $XDG_STATE_HOME/spawn, when XDG_STATE_HOME is an absolute path;
//  3. ~/.local/state/spawn, the XDG default for state;
//  4. <os.TempDir()>/spawn-<uid>, when there is no home directory.
//
// It is a state directory and not a cache directory because caches may be
// deleted at any time, and actor state must survive. The fallback in the
// temporary directory may not survive a reboot; set SPAWN_DATA_DIR on
// machines without a home directory.
func DefaultDir() string {
	if dir := os.Getenv(protocol.EnvDataDir); dir != "" {
		return dir
	}
	// The XDG specification says to ignore relative paths.
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "spawn")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "spawn")
	}
	// The user ID keeps users of a shared machine apart.
	return filepath.Join(os.TempDir(), "spawn-"+strconv.Itoa(os.Getuid()))
}
