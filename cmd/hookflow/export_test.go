package main

// ExitCode is exitCode, for the tests of package main_test.
var ExitCode = exitCode
