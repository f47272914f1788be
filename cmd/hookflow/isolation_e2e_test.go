package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envOrphanHelper makes TestStartedProcessesDieWithTheTestBinary act as the test binary
// that dies under a child it started.
const envOrphanHelper = "HOOKFLOW_TEST_ORPHAN_HELPER"

// TestStartedProcessesDieWithTheTestBinary kills (SIGKILL) a test binary that started a
// hookflow process the way every e2e test does, and checks that the process dies too. A
// test binary can die without running its cleanups (a -timeout panic, a crash, a kill
// from outside); a `hookflow dev` or worker left running then keeps retrying its
// deliveries to loopback ports that the kernel hands to the receivers of later tests.
func TestStartedProcessesDieWithTheTestBinary(t *testing.T) {
	if os.Getenv(envOrphanHelper) == "1" {
		// The helper: an unreachable Temporal keeps the worker retrying its connection
		// for a minute, alive and cheap.
		p := startProcess(t, []string{"HOOKFLOW_TEMPORAL_ADDRESS=127.0.0.1:1", "HOOKFLOW_DATABASE_URL=sqlite::memory:",
			"HOOKFLOW_LOG_LEVEL=error", "HOOKFLOW_METRICS_ADDR=" + freeAddr(t)}, "worker")
		os.Stdout.WriteString("child-pid " + strconv.Itoa(p.cmd.Process.Pid) + "\n")
		time.Sleep(2 * time.Minute) // until killed
		return
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestStartedProcessesDieWithTheTestBinary$", "-test.v")
	helper.Env = append(os.Environ(), envOrphanHelper+"=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	pid := 0
	lines := bufio.NewScanner(out)
	for pid == 0 && lines.Scan() {
		if s, ok := strings.CutPrefix(lines.Text(), "child-pid "); ok {
			pid, _ = strconv.Atoi(s)
		}
	}
	if pid == 0 {
		t.Fatalf("the helper did not start a child: %v", lines.Err())
	}
	if !alive(pid) {
		t.Fatalf("the child %d died before its parent", pid)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // should it have survived
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the hookflow process %d outlived the test binary that started it (killed 15 s ago)", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether process pid runs (a zombie, dead but not yet reaped, does not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc: ask the kernel
	}
	// pid (comm) state …: the command may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// startChild starts cmd in a process group of its own (so that killing the group ends
// anything it started) and closes done once cmd has exited and been reaped. On Linux
// the kernel kills the child when the thread that started it ends (Pdeathsig), which
// makes it die with the test binary however that ends: a -timeout panic, a crash or a
// kill from outside run no cleanups. The signal follows the thread, not the process
// (go.dev/issue/27505), so the child starts from a goroutine that keeps its thread until
// the child has exited, as chromedp starts Chromium.
func startChild(cmd *exec.Cmd, done chan<- struct{}) error {
	cmd.SysProcAttr = childProcAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		_ = cmd.Wait()
		close(done)
	}()
	return <-started
}
