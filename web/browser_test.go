package web_test

// The dashboard in real headless Chromium (Debian's chromium package),
// driven with chromedp against the real API server and engine loaded with
// the demo generator's data.

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"custkpi/api"
	"custkpi/engine"
	"custkpi/engine/demo"
	"custkpi/internal/shareddata"
)

// demoCustomers is the size of the test's demo data: big enough for every
// chart to have content, small enough to generate in a second.
const demoCustomers = 2000

// axeSource is axe-core, the accessibility checker, pinned and vendored
// (testdata/axe-LICENSE.txt: MPL-2.0); it runs only in these tests.
//
//go:embed testdata/axe-4.10.3.min.js
var axeSource string

// chromiumPath finds Chromium; without it the browser tests skip outside
// CI and fail in CI (.ci/run installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CUSTKPI_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "the dashboard's browser tests need Chromium: apt-get install -y chromium (or set CUSTKPI_CHROMIUM)"
	if shareddata.InCI() {
		t.Fatal(msg + " (fails instead of skipping because " + shareddata.CIEnv + " or CI is set)")
	}
	t.Skip(msg)
	return ""
}

// demoServer serves the real API over a fresh engine loaded with the demo
// data; it returns the engine too, for keys.
func demoServer(t *testing.T) (*httptest.Server, *engine.Engine) {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	files, err := demo.Generate(ctx, t.TempDir(), demo.Options{Customers: demoCustomers, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []engine.ImportRequest
	for _, k := range demo.Kinds {
		reqs = append(reqs, engine.ImportRequest{Kind: k, Path: files[k]})
	}
	if _, err := eng.ImportBatch(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(eng, api.Options{}).Handler())
	t.Cleanup(srv.Close)
	return srv, eng
}

// call makes an API request with an optional key and decodes the JSON
// answer into out (when not nil), failing the test on a status other than
// want.
func call(t *testing.T, method, url, key string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// browser is one Chromium tab on the dashboard, recording what the page
// logs as errors and warnings (console calls, uncaught exceptions, and
// the browser's own log, such as a failed request).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	mu   sync.Mutex
	errs []string
	// quietNetwork leaves out the browser's log of refused requests (4xx)
	// that the page expects and handles, as a reader's do.
	quietNetwork bool
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
		// Without the network-quietening flags Chromium's own
		// connections are refused on the build machines and slow it down.
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				b.mu.Lock()
				if b.quietNetwork && m.Source == "network" {
					b.mu.Unlock()
					continue
				}
				b.errs = append(b.errs, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// step runs actions with a deadline (the browser's own context must not
// have one: it would stop the browser).
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// wait waits for a CSS selector to be visible.
func wait(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }

// open loads the dashboard at a hash route and waits for the page to say
// it is done (main[data-ready=page]).
func (b *browser) open(hash, page string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+"/"+hash), wait(`main[data-ready="`+page+`"]`))
}

// visit changes the route within the loaded page.
func (b *browser) visit(hash, page string) {
	b.t.Helper()
	b.eval(`document.getElementById('main').dataset.ready = ''; location.hash = `+jsString(hash)+`; true`, nil)
	b.run(wait(`main[data-ready="` + page + `"]`))
}

// eval evaluates JavaScript (awaiting a promise) and decodes its JSON value
// into out (nil: ignored).
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%.80s: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%.80s: %v: %s", js, err, raw)
		}
	}
}

// drain forgets what the page logged so far (the refused requests of a
// page asking for a login, say).
func (b *browser) drain() {
	b.mu.Lock()
	b.errs = nil
	b.mu.Unlock()
}

// noErrors fails on anything the page logged as an error, and on an error
// message shown on the page.
func (b *browser) noErrors(where string) {
	b.t.Helper()
	b.mu.Lock()
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
	for _, e := range errs {
		b.t.Errorf("%s: %s", where, e)
	}
	var shown []string
	b.eval(`[...document.querySelectorAll('.error')].map(e => e.textContent)`, &shown)
	for _, s := range shown {
		b.t.Errorf("%s: the page shows an error: %s", where, s)
	}
}

// screenshot saves the whole page under testdata/screenshots (ignored by
// git) and logs the path.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "screenshots"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// axe runs axe-core's WCAG 2 A and AA rules on the page and fails on any
// violation.
func (b *browser) axe(where string) {
	b.t.Helper()
	var loaded bool
	b.eval(`typeof axe !== 'undefined'`, &loaded)
	if !loaded {
		b.eval(axeSource+"; true", nil)
	}
	var res struct {
		Passes     int `json:"passes"`
		Violations []struct {
			ID    string `json:"id"`
			Help  string `json:"help"`
			Nodes []struct {
				Target []any `json:"target"`
			} `json:"nodes"`
		} `json:"violations"`
	}
	b.eval(`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}}).then(r => ({passes: r.passes.length, violations: r.violations}))`, &res)
	if res.Passes == 0 {
		b.t.Errorf("%s: axe checked nothing", where)
	}
	for _, v := range res.Violations {
		var targets []string
		for i, n := range v.Nodes {
			if i == 3 {
				targets = append(targets, "…")
				break
			}
			targets = append(targets, fmt.Sprint(n.Target...))
		}
		b.t.Errorf("%s: accessibility: %s (%s) at %s", where, v.ID, v.Help, strings.Join(targets, ", "))
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// drawn counts the drawn marks (lines, bars, cells) of every chart on the
// page, by chart name.
func (b *browser) drawn() map[string]int {
	b.t.Helper()
	var out map[string]int
	b.eval(`Object.fromEntries([...document.querySelectorAll('figure.chart')].map(f => [f.dataset.chart, f.querySelectorAll('svg [data-role]').length]))`, &out)
	return out
}
