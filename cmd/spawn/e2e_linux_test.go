package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child if the test process dies
// first (a test timeout panics, and cleanups do not run), so no proxy or
// host outlives the test.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
