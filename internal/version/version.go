// Package version says which version of the spawn-go module a binary was
// built with, for what the runtime and spawn proxy announce to hosts.
package version

import (
	"runtime/debug"
	"sync"
)

// modulePath is the path of the spawn-go module.
const modulePath = "github.com/spawn-go/spawn"

// Module returns the version of the spawn-go module compiled into the
// binary, or "devel" when it is not known (go run, tests, a replace
// directive).
var Module = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
})

// fromBuildInfo finds the module's version in bi: the main module's when
// the binary is spawn-go's own (spawn proxy), else the dependency's.
func fromBuildInfo(bi *debug.BuildInfo) string {
	if bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath && d.Version != "" {
			if d.Replace != nil && d.Replace.Version == "" {
				break // replaced by a folder: its version is not known
			}
			return d.Version
		}
	}
	return "devel"
}
