package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

const vulndbModule = "golang.org/x/vulndb"

// entry is the part of an OSV entry that the indexes are built from.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

// osvTime encodes a time as OSV and the database indexes spell it: RFC 3339 in UTC.
type osvTime time.Time

func (t osvTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}

type dbMeta struct {
	Modified osvTime `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string  `json:"id"`
	Modified osvTime `json:"modified"`
	Fixed    string  `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string   `json:"id"`
	Modified osvTime  `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
}

func runBuild(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	version := fs.String("version", "", "version of "+vulndbModule+" to build the database from")
	out := fs.String("out", "", "directory to write the database to")
	fs.Parse(args)
	if *version == "" || *out == "" {
		return errors.New("build: -version and -out are required")
	}
	dir, snapshot, err := download(*version)
	if err != nil {
		return err
	}
	n, err := build(filepath.Join(dir, "data", "osv"), *out, snapshot)
	if err != nil {
		return err
	}
	log.Printf("%d entries from %s@%s (%s) in %s", n, vulndbModule, *version, snapshot.Format(time.DateOnly), *out)
	return nil
}

// download fetches the module through the module proxy and returns the directory it was
// extracted to and the time of its commit.
func download(version string) (dir string, snapshot time.Time, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", vulndbModule+"@"+version)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	var mod struct{ Dir, Info, Error string }
	if jerr := json.Unmarshal(b, &mod); jerr != nil {
		return "", time.Time{}, fmt.Errorf("go mod download %s@%s: %w", vulndbModule, version, errors.Join(err, jerr))
	}
	if mod.Error != "" {
		return "", time.Time{}, fmt.Errorf("go mod download %s@%s: %s", vulndbModule, version, mod.Error)
	}
	b, err = os.ReadFile(mod.Info)
	if err != nil {
		return "", time.Time{}, err
	}
	var info struct{ Time time.Time }
	if err := json.Unmarshal(b, &info); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", mod.Info, err)
	}
	return mod.Dir, info.Time, nil
}

// build writes the database for the OSV files in osvDir to out and returns how many
// entries it holds. The module's files leave "modified" unset (the hosted database
// fills it in from the reports' history); such entries are indexed with the snapshot's
// commit time, which no modification can be later than.
func build(osvDir, out string, snapshot time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV files in %s", osvDir)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o755); err != nil {
		return 0, err
	}
	var (
		db      dbMeta
		vulns   []vulnMeta
		modules = map[string]*moduleMeta{}
	)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if filepath.Base(f) != e.ID+".json" {
			return 0, fmt.Errorf("%s: holds entry %q", f, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = snapshot
		}
		modified := osvTime(e.Modified)
		if e.Modified.After(time.Time(db.Modified)) {
			db.Modified = modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: modified, Fixed: latestFixed(a.Ranges)})
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}

	slices.SortFunc(vulns, func(a, b vulnMeta) int { return strings.Compare(a.ID, b.ID) })
	mods := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })
	for name, v := range map[string]any{"db": db, "modules": mods, "vulns": vulns} {
		if err := writeJSON(filepath.Join(out, "index", name+".json"), v); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// latestFixed returns the fix that no later fix or reintroduction supersedes, or "" if
// there is none, as the database's own indexer computes it (govulncheck skips a module's
// entry without reading it when the version in use is at or past this fix).
func latestFixed(ranges []osvRange) string {
	var fixed string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(fixed, e.Fixed) {
				fixed = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(fixed, e.Introduced) {
				fixed = ""
				break
			}
		}
	}
	return fixed
}

// less compares OSV versions, which are semantic versions without the leading "v"; the
// empty version sorts first.
func less(a, b string) bool {
	return semver.Compare(canonical(a), canonical(b)) < 0
}

func canonical(v string) string {
	if v == "" {
		return ""
	}
	return "v" + v
}

func writeJSON(name string, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}
