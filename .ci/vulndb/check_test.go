package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// findings is govulncheck -format json output with one called vulnerability in the
// standard library, one in a module, and one only imported.
const findings = `{"config":{"protocol_version":"v1.0.0"}}
{"osv":{"id":"GO-1","summary":"stdlib bug"}}
{"osv":{"id":"GO-2","summary":"module bug"}}
{"osv":{"id":"GO-3","summary":"imported only"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Serve"},{"module":"example.com/app","function":"main"}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Get"}]}}
{"finding":{"osv":"GO-2","fixed_version":"v1.1.0","trace":[{"module":"example.com/lib","version":"v1.0.0","package":"example.com/lib","function":"F"}]}}
{"finding":{"osv":"GO-3","trace":[{"module":"example.com/other","version":"v1.0.0","package":"example.com/other"}]}}
`

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name, accepted string
		wantErr        string
		wantOut        []string
	}{
		{"OK", "GO-1 stdlib needs a newer Go\nGO-2 example.com/lib no fix\n", "", []string{"accepted  GO-1 stdlib@v1.26.8: needs a newer Go", "2 called vulnerabilities, all accepted"}},
		{"ErrNotAccepted", "# only one\nGO-1 stdlib needs a newer Go\n", "calls 1 vulnerabilities that are not accepted", []string{"CALLED    GO-2 example.com/lib@v1.0.0, fixed in v1.1.0: module bug"}},
		{"ErrOtherModule", "GO-1 stdlib needs a newer Go\nGO-2 example.com/other no fix\n", "not accepted", []string{"CALLED    GO-2", "STALE     GO-2 example.com/other"}},
		{"ErrStale", "GO-1 stdlib a\nGO-2 example.com/lib b\nGO-3 example.com/other only imported\n", "match no finding", []string{"STALE     GO-3 example.com/other"}},
		{"ErrNoReason", "GO-1 stdlib\n", "want an id, a module and the reason", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "accepted.txt")
			if err := os.WriteFile(file, []byte(tt.accepted), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err := runCheck([]string{"-accepted", file}, strings.NewReader(findings), &out)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("runCheck: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("runCheck error = %v, want one containing %q", err, tt.wantErr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
