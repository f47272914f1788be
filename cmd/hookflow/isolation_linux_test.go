package main_test

import "syscall"

// childProcAttr puts a child in its own process group and has the kernel kill it when
// the thread that started it ends (see startChild).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
