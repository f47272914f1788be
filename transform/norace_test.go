//go:build !race

package transform_test

// slowdown scales the time limits of tests that measure timing; see race_test.go.
const slowdown = 1
