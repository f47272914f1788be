package main

import (
	"flag"
	"io"
)

// ExitCode is exitCode, for the tests of package main_test.
var ExitCode = exitCode

// EnvNames returns the HOOKFLOW_* variables that cmd's configuration reads.
func EnvNames(cmd string) map[string]bool {
	names := map[string]bool{}
	cfg := DefaultConfig(cmd)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	_ = cfg.bindFlags(fs, cmd, func(name string) string { names[name] = true; return "" })
	return names
}

// ParseFlags parses args with cmd's flag set, as the command does before validating.
func ParseFlags(cmd string, args []string) error {
	cfg := DefaultConfig(cmd)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := cfg.bindFlags(fs, cmd, func(string) string { return "" }); err != nil {
		return err
	}
	return fs.Parse(args)
}
