package payload_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookflow/hookflow/payload"
)

// nodeScript reads one base64 input per line, each prefixed with "b" so that an empty
// input is a line too, and prints for each "ok " and the base64 of
// JSON.stringify(JSON.parse(input)), or "err " and the base64 of the error message.
const nodeScript = `
const lines = require('fs').readFileSync(0, 'latin1').split('\n');
const out = [];
for (const line of lines) {
  if (line === '') continue;
  const text = Buffer.from(line.slice(1), 'base64').toString('utf8');
  try {
    out.push('ok ' + Buffer.from(JSON.stringify(JSON.parse(text)), 'utf8').toString('base64'));
  } catch (e) {
    out.push('err ' + Buffer.from(String(e && e.message), 'utf8').toString('base64'));
  }
}
process.stdout.write(out.join('\n') + '\n');
`

// TestNodeDifferential checks Canonicalize against the expression receivers verify with,
// JSON.stringify(JSON.parse(x)), run by Node.js over the whole test corpus in one process.
// Inputs that are not UTF-8 are left out: a JavaScript string cannot hold them.
func TestNodeDifferential(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		// In CI (CI=true, where .ci/run installs Node.js) a skip would hide that the
		// encoder went unchecked against the receivers' expression.
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not on PATH, and CI=true requires it for the differential test against JSON.stringify(JSON.parse(x)) (.ci/run installs Node.js)")
		}
		t.Skip("node is not on PATH; skipping the differential test against JSON.stringify(JSON.parse(x)) (set CI=true to make it required)")
	}
	var inputs [][]byte
	for _, in := range corpus(t) {
		if utf8.Valid(in) {
			inputs = append(inputs, in)
		}
	}
	var stdin bytes.Buffer
	for _, in := range inputs {
		stdin.WriteByte('b')
		stdin.WriteString(base64.StdEncoding.EncodeToString(in))
		stdin.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", nodeScript)
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var results []string
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		results = append(results, sc.Text())
	}
	if got, want := len(results), len(inputs); got != want {
		t.Fatalf("node printed %d results for %d inputs", got, want)
	}

	var same, bothRejected, refusedOnPurpose int
	for i, in := range inputs {
		status, b64, _ := strings.Cut(results[i], " ")
		nodeOut, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("node result %d: %v", i, err)
		}
		ours, ourErr := payload.Canonicalize(in)
		switch {
		case status == "ok" && ourErr == nil:
			if !bytes.Equal(ours, nodeOut) {
				t.Errorf("input %q\n  ours: %s\n  node: %s", in, ours, nodeOut)
			}
			same++
		case status == "ok":
			if !isDocumentedRejection(ourErr) {
				t.Errorf("input %q: JSON.parse accepts it but Decode says %v", in, ourErr)
			}
			refusedOnPurpose++
		case ourErr == nil:
			t.Errorf("input %q: Decode accepts it but JSON.parse says %s", in, nodeOut)
		default:
			bothRejected++
		}
	}
	t.Logf("%d inputs: %d printed the same, %d rejected by both, %d refused on purpose",
		len(inputs), same, bothRejected, refusedOnPurpose)
}

// isDocumentedRejection reports whether err is one of the rejections of input that
// JSON.parse accepts, which the package documentation lists.
func isDocumentedRejection(err error) bool {
	var se *payload.SyntaxError
	if !errors.As(err, &se) {
		return false
	}
	for _, prefix := range []string{"invalid UTF-8", "duplicate key ", "nesting deeper than ", "number out of range"} {
		if strings.HasPrefix(se.Msg, prefix) {
			return true
		}
	}
	return false
}
