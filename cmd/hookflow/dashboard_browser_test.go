package main_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
)

// Browser tests run Debian's Chromium headless. Without it they skip, unless
// HOOKFLOW_REQUIRE_CHROMIUM=1 (CI sets it), where a missing browser fails them.
const (
	envChromium        = "HOOKFLOW_CHROMIUM"         // the browser to run; /usr/bin/chromium by default
	envRequireChromium = "HOOKFLOW_REQUIRE_CHROMIUM" // 1: fail, not skip, without a browser
	screenshotDir      = "../../testdata/screenshots"

	browserTimeout = 6 * time.Minute  // the whole browser session
	stepTimeout    = 20 * time.Second // one action or wait
)

// browser is one headless Chromium tab. Its methods fail the test, with what the page
// shows, when a step does not finish within stepTimeout.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab

	mu       sync.Mutex
	problems []string // exceptions and console errors of the page
}

// startBrowser starts Chromium with a new empty profile, or skips the test when there is
// no Chromium (fails when HOOKFLOW_REQUIRE_CHROMIUM=1).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv(envChromium)
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (%v): install it with `apt-get install -y chromium`, or name one in %s", path, err, envChromium)
		if os.Getenv(envRequireChromium) == "1" {
			t.Fatalf("%s; %s=1 requires the browser tests to run", msg, envRequireChromium)
		}
		t.Skip(msg)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	// The whole session has a deadline, so that a stuck browser fails the test
	// instead of hanging it.
	deadlineCtx, cancelDeadline := context.WithTimeout(allocCtx, browserTimeout)
	tabCtx, cancelTab := chromedp.NewContext(deadlineCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelDeadline()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: tabCtx}
	// The first action starts the browser, which lives as long as the context of that
	// action: so it runs on the tab's own context, bounded by browserTimeout.
	if err := chromedp.Do(tabCtx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium at %s: %v", path, err)
	}
	if _, err := chromedp.Call(tabCtx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser log: %v", err)
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A 4xx answer is logged by the network as an error; the dashboard shows the
			// ones the test provokes. Anything else (exceptions, CSP refusals,
			// console.error) is a problem.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// consoleProblems returns the exceptions and errors the page logged so far.
func (b *browser) consoleProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// do runs actions within stepTimeout; what names the step in a failure.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true, failing after stepTimeout.
func (b *browser) waitJS(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	expr := fmt.Sprintf("(() => { try { return !!(%s); } catch (e) { return false; } })()", cond)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			if err == nil {
				err = errors.New("condition still false: " + cond)
			}
			b.fail("wait for "+what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitText waits until the element of a CSS selector contains text.
func (b *browser) waitText(what, sel, text string) {
	b.t.Helper()
	b.waitJS(what, fmt.Sprintf("document.querySelector(%s)?.textContent.includes(%s)", jsString(sel), jsString(text)))
}

// text returns the text of the first element matching a CSS selector ("" if none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf("document.querySelector(%s)?.textContent ?? ''", jsString(sel)))
}

// click clicks the element of a CSS selector, once it is visible.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill replaces the value of an input, textarea or select, and fires its input and
// change events.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible))
}

// typeInto clears an input and types text into it key by key.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.querySelector(%s).value = ''", jsString(sel))))
	if text != "" {
		b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
	}
}

// keys sends key presses to whatever has the focus.
func (b *browser) keys(what, keys string) {
	b.t.Helper()
	b.do(what, chromedp.KeyEvent(keys))
}

// focused returns a description of the focused element: its tag, id, role and text.
func (b *browser) focused() string {
	b.t.Helper()
	return eval[string](b, `(() => { const e = document.activeElement; return e ? `+
		"`${e.tagName.toLowerCase()}#${e.id} role=${e.getAttribute('role') ?? ''} ${e.textContent.trim()}`"+` : ''; })()`)
}

// screenshot saves the whole page as testdata/screenshots/name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// fail ends the test with what the page shows, and saves a screenshot of it.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	page := "(unreadable)"
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	if s, e := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + "\n" + document.body.innerText`)); e == nil {
		page = s
	}
	if png, e := chromedp.Run(ctx, chromedp.FullScreenshot(100)); e == nil {
		_ = os.MkdirAll(screenshotDir, 0o755)
		_ = os.WriteFile(filepath.Join(screenshotDir, "failure.png"), png, 0o644)
	}
	b.t.Fatalf("%s: %v\nconsole problems: %q\nthe page shows:\n%s", what, err, b.consoleProblems(), truncate(page, 4000))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
