package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// message is the part of a govulncheck -format json message that check reads.
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// called is a vulnerability that the code reaches, as govulncheck's text output counts
// them: a finding whose innermost frame is a function.
type called struct {
	id, summary, module, version, fixed string
}

// key is how the accepted file names a vulnerability: its id and the module it is
// found in ("stdlib" for the standard library), so that accepting one module's finding
// does not hide another's.
func (c called) key() string { return c.id + " " + c.module }

func runCheck(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	acceptedFile := fs.String("accepted", "", "file of accepted vulnerabilities, one a line: id, module, reason")
	fs.Parse(args)
	if *acceptedFile == "" {
		return errors.New("check: -accepted is required")
	}
	accepted, err := readAccepted(*acceptedFile)
	if err != nil {
		return err
	}
	found, err := readCalled(in)
	if err != nil {
		return err
	}

	var unaccepted, stale int
	for _, c := range found {
		if reason, ok := accepted[c.key()]; ok {
			fmt.Fprintf(out, "accepted  %s %s@%s: %s\n", c.id, c.module, c.version, reason)
			continue
		}
		fix := "no fixed version"
		if c.fixed != "" {
			fix = "fixed in " + c.fixed
		}
		fmt.Fprintf(out, "CALLED    %s %s@%s, %s: %s\n", c.id, c.module, c.version, fix, c.summary)
		unaccepted++
	}
	for _, key := range slices.Sorted(maps.Keys(accepted)) {
		if !slices.ContainsFunc(found, func(c called) bool { return c.key() == key }) {
			fmt.Fprintf(out, "STALE     %s is accepted in %s but no longer found: remove it\n", key, *acceptedFile)
			stale++
		}
	}
	if unaccepted > 0 {
		return fmt.Errorf("the code calls %d vulnerabilities that are not accepted: upgrade the modules to their fixed versions, or list them in %s with the reason they cannot be fixed yet", unaccepted, *acceptedFile)
	}
	if stale > 0 {
		return fmt.Errorf("%d lines of %s match no finding any more", stale, *acceptedFile)
	}
	fmt.Fprintf(out, "%d called vulnerabilities, all accepted in %s\n", len(found), *acceptedFile)
	return nil
}

// readCalled returns the called vulnerabilities in govulncheck's JSON stream, one per
// id and module, sorted.
func readCalled(in io.Reader) ([]called, error) {
	summaries := map[string]string{}
	seen := map[called]bool{}
	var found []called
	dec := json.NewDecoder(in)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("govulncheck output: %w", err)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		c := called{id: f.OSV, module: f.Trace[0].Module, version: f.Trace[0].Version, fixed: f.FixedVersion}
		if !seen[c] {
			seen[c] = true
			found = append(found, c)
		}
	}
	for i := range found {
		found[i].summary = summaries[found[i].id]
	}
	slices.SortFunc(found, func(a, b called) int {
		return strings.Compare(a.key(), b.key())
	})
	return found, nil
}

// readAccepted reads lines of "ID MODULE REASON" into a map from "ID MODULE" to the
// reason; blank lines and lines starting with # are comments.
func readAccepted(name string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	accepted := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want an id, a module and the reason", name, n)
		}
		key := fields[0] + " " + fields[1]
		if _, dup := accepted[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, key)
		}
		accepted[key] = strings.Join(fields[2:], " ")
	}
	return accepted, sc.Err()
}
