//go:build !linux

package main_test

import "syscall"

// childProcAttr puts a child in its own process group. Without Linux's Pdeathsig a child
// outlives a test binary that dies without running its cleanups.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
