//go:build race

package transform_test

// slowdown scales the time limits of tests that measure timing: the race detector
// makes goja about ten times slower.
const slowdown = 10
