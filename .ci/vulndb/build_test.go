package main

import (
	"encoding/json"
	"testing"
)

func TestLatestFixed(t *testing.T) {
	for _, tt := range []struct {
		name, ranges, want string
	}{
		{"Fixed", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]`, "1.2.3"},
		{"LatestOfTwo", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"1.3.0"},{"fixed":"1.3.4"}]}]`, "1.3.4"},
		{"Reintroduced", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"1.3.0"}]}]`, ""},
		{"Unfixed", `[{"type":"SEMVER","events":[{"introduced":"4.0.0"}]}]`, ""},
		{"PrereleaseBeforeRelease", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0-rc.1"},{"fixed":"1.0.0"}]}]`, "1.0.0"},
		{"PseudoVersion", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.0-20260626085133-7cb96ac80a6d"}]}]`, "0.0.0-20260626085133-7cb96ac80a6d"},
		{"NotSemver", `[{"type":"GIT","events":[{"introduced":"0"},{"fixed":"abc"}]}]`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ranges []osvRange
			if err := json.Unmarshal([]byte(tt.ranges), &ranges); err != nil {
				t.Fatal(err)
			}
			if got := latestFixed(ranges); got != tt.want {
				t.Errorf("latestFixed = %q, want %q", got, tt.want)
			}
		})
	}
}
