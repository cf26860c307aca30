// Package browsertest runs tests in a real browser: Debian's chromium, headless, driven over the
// DevTools protocol by chromedp. A test gets a fresh browser (its own user-data-dir) that records
// every request and every console error or uncaught exception, so that a test can say "no request
// left the page's origin" and "nothing went wrong" about what it loaded.
//
// Without chromium the tests skip, except in CI (CI=true), where they fail.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Path finds chromium: $CHROMIUM, else chromium or chromium-browser on PATH; "" when absent.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless chromium with one tab.
type Browser struct {
	Ctx context.Context // run chromedp actions in it

	mu       sync.Mutex
	requests []string
	problems []string
}

// New starts a browser for tb, closed at the end of the test. It skips tb when chromium is
// absent, unless CI=true.
func New(tb testing.TB) *Browser {
	tb.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("chromium is required in CI: apt-get install -y chromium (or set CHROMIUM)")
		}
		tb.Skip("chromium is not installed (apt-get install -y chromium, or set CHROMIUM)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		tb.Fatalf("starting chromium %s: %v", path, err)
	}
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(ctx, log.Enable, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(ctx, runtime.Enable, cdp.Empty{})
	}
	if err != nil {
		tb.Fatalf("chromium %s: enabling events: %v", path, err)
	}
	return b
}

func (b *Browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
		b.problems = append(b.problems, "uncaught: "+msg)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.problems = append(b.problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	}
}

// Problems returns the console errors, uncaught exceptions and error log entries (a violated
// content security policy, a failed load) so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Requests returns the URL of every request the browser made so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// ForeignRequests returns the requests to any origin other than origin's (data: and about:
// URLs are not requests to an origin).
func (b *Browser) ForeignRequests(origin string) []string {
	o, err := url.Parse(origin)
	if err != nil {
		return []string{fmt.Sprintf("bad origin %q", origin)}
	}
	var out []string
	for _, r := range b.Requests() {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Scheme != "about" && (u.Scheme != o.Scheme || u.Host != o.Host)) {
			out = append(out, r)
		}
	}
	return out
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and decodes its value.
func Eval[T any](tb testing.TB, b *Browser, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
