//go:build unix && !linux

package main

import "os/exec"

// dieWithParent does nothing where there is no parent-death signal: the
// test's cleanups still kill the children, except after a timeout panic.
func dieWithParent(cmd *exec.Cmd) {}
