package main_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.temporal.io/server/common/dynamicconfig"
	"gopkg.in/yaml.v3"

	"github.com/hookflow/hookflow/devserver"

	main "github.com/hookflow/hookflow/cmd/hookflow"
)

// composeFile is the part of docker-compose.yml the checks read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
	} `yaml:"services"`
}

// TestComposeMatchesTheBinary checks docker-compose.yml against the code, since Docker
// cannot run here: every HOOKFLOW_* variable set for a Hookflow service is one its
// command reads, every command and flag exists, the Temporal images are the versions
// go.mod builds and tests, and Temporal's frontend and UI are published on loopback only.
func TestComposeMatchesTheBinary(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := func(module string) string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` v(\S+)`).FindSubmatch(gomod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", module)
		}
		return string(m[1])
	}
	server, ui := version("go.temporal.io/server"), version("github.com/temporalio/ui-server/v2")
	commands := map[string]bool{"dev": true, "worker": true, "api": true, "migrate": true, "temporal": true}
	hookflowServices := 0
	for name, svc := range cf.Services {
		image := os.Expand(svc.Image, func(v string) string { // ${VAR:-default} → default
			if i := strings.Index(v, ":-"); i >= 0 {
				return v[i+2:]
			}
			return ""
		})
		switch {
		case strings.HasPrefix(image, "temporalio/server:"), strings.HasPrefix(image, "temporalio/admin-tools:"):
			if tag := image[strings.Index(image, ":")+1:]; tag != server {
				t.Errorf("service %s runs %s, go.mod has go.temporal.io/server v%s", name, image, server)
			}
		case strings.HasPrefix(image, "temporalio/ui:"):
			if tag := image[strings.Index(image, ":")+1:]; tag != ui {
				t.Errorf("service %s runs %s, go.mod has ui-server v%s", name, image, ui)
			}
		}
		for _, p := range svc.Ports {
			if (strings.HasSuffix(p, ":7233") || strings.Contains(p, ":8233:")) && !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q: Temporal's frontend and UI must be bound to 127.0.0.1", name, p)
			}
		}
		if !strings.HasPrefix(image, "hookflow:") {
			continue
		}
		hookflowServices++
		if len(svc.Command) == 0 || !commands[svc.Command[0]] {
			t.Errorf("service %s: command %v is not a hookflow server command", name, svc.Command)
			continue
		}
		cmd := svc.Command[0]
		if err := main.ParseFlags(cmd, svc.Command[1:]); err != nil {
			t.Errorf("service %s: hookflow %s refuses its flags %v: %v", name, cmd, svc.Command[1:], err)
		}
		read := main.EnvNames(cmd)
		for v := range svc.Environment {
			if strings.HasPrefix(v, "HOOKFLOW_") && !read[v] {
				t.Errorf("service %s sets %s, which hookflow %s does not read", name, v, cmd)
			}
		}
	}
	if hookflowServices < 3 {
		t.Errorf("found %d Hookflow services, want migrate, worker and api", hookflowServices)
	}
}

// TestREADMESettingsExist checks README.md's configuration table against the binary:
// every variable it lists is read by some command and every flag exists for some
// command.
func TestREADMESettingsExist(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	cmds := []string{"dev", "worker", "api", "migrate", "temporal", "bench"}
	read := map[string]bool{}
	for _, c := range cmds {
		for v := range main.EnvNames(c) {
			read[v] = true
		}
	}
	flagExists := func(f string) bool {
		for _, c := range cmds {
			// Any error but an undefined flag means the command has it (a bad value).
			if err := main.ParseFlags(c, []string{f + "=1"}); err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
				return true
			}
		}
		return false
	}
	rows := 0
	listed := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") && !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		rows++
		for _, v := range regexp.MustCompile("`(HOOKFLOW_[A-Z_]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed[v[1]] = true
			if !read[v[1]] {
				t.Errorf("README lists %s, which no command reads", v[1])
			}
		}
		for _, f := range regexp.MustCompile("`(--[a-z-]+)`").FindAllStringSubmatch(cells[2], -1) {
			if !flagExists(f[1]) {
				t.Errorf("README lists the flag %s, which no command has", f[1])
			}
		}
	}
	if rows < 10 {
		t.Errorf("read %d rows of the configuration table, want its settings", rows)
	}
	// The other way round: every variable a server command reads is documented.
	for _, c := range []string{"dev", "worker", "api", "migrate", "temporal"} {
		for v := range main.EnvNames(c) {
			if !listed[v] {
				t.Errorf("hookflow %s reads %s, which README's configuration table does not list", c, v)
			}
		}
	}
}

// TestComposeDynamicConfig checks the compose stack's Temporal dynamic configuration
// against the server go.mod builds: every key is one the server knows, with a value it
// accepts, and the settings are those `hookflow temporal` runs its own server with, so
// that both production shapes behave alike.
func TestComposeDynamicConfig(t *testing.T) {
	raw, err := os.ReadFile("../../docker/dynamicconfig/hookflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loaded := dynamicconfig.LoadYamlFile(raw)
	if err := loaded.Err(); err != nil {
		t.Fatalf("docker/dynamicconfig/hookflow.yaml: %v", err)
	}
	for _, w := range loaded.Warnings {
		t.Errorf("docker/dynamicconfig/hookflow.yaml: %v", w)
	}
	want := devserver.DefaultDynamicConfig()
	got := map[string]any{}
	for k, cvs := range loaded.Map {
		if len(cvs) != 1 || cvs[0].Constraints != (dynamicconfig.Constraints{}) {
			t.Errorf("%s: want one unconstrained value, got %+v", k, cvs)
			continue
		}
		got[k.String()] = cvs[0].Value
	}
	for k, v := range want {
		if g, ok := got[strings.ToLower(k)]; !ok {
			t.Errorf("compose's dynamic configuration lacks %s (hookflow temporal sets %v)", k, v)
		} else if fmt.Sprint(g) != fmt.Sprint(v) {
			t.Errorf("compose's dynamic configuration sets %s to %v, hookflow temporal to %v", k, g, v)
		}
	}
	for k := range got {
		found := false
		for w := range want {
			found = found || strings.EqualFold(k, w)
		}
		if !found {
			t.Errorf("compose's dynamic configuration sets %s, which hookflow temporal does not", k)
		}
	}
}
