package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"custkpi/engine"
)

// rawClient does not ask for gzip by itself nor decode answers: the tests
// see the bytes and headers the server sent.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// raw makes a request with headers given as name, value pairs.
func raw(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decompress(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unexpected coding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", coding, err)
	}
	return out
}

// A compressed answer decodes to the bytes of the uncompressed one, in
// every coding offered; the client's q-values choose; Arrow and Parquet are
// sent as they are.
func TestCompression(t *testing.T) {
	srv, eng := newTestServer(t)
	for _, format := range []string{"json", "csv"} {
		url := srv.URL + "/v1/customers?format=" + format
		resp, plain := raw(t, "GET", url, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || len(plain) < minCompressSize {
			t.Fatalf("%s identity: %d %q, %d bytes (the test needs a body worth compressing)", format, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(plain))
		}
		etag := resp.Header.Get("ETag")
		for _, coding := range []string{"gzip", "br", "zstd"} {
			resp, b := raw(t, "GET", url, nil, "Accept-Encoding", coding)
			if got := resp.Header.Get("Content-Encoding"); got != coding {
				t.Fatalf("%s %s: Content-Encoding %q", format, coding, got)
			}
			if len(b) >= len(plain) {
				t.Errorf("%s %s: %d bytes, not smaller than %d", format, coding, len(b), len(plain))
			}
			if !bytes.Equal(decompress(t, coding, b), plain) {
				t.Errorf("%s %s: decodes to other bytes", format, coding)
			}
			// One weak tag for every coding: the identity answer's tag
			// revalidates the compressed one.
			if resp.Header.Get("ETag") != etag {
				t.Errorf("%s %s: ETag %q, identity %q", format, coding, resp.Header.Get("ETag"), etag)
			}
			if vary := resp.Header.Values("Vary"); len(vary) != 1 || vary[0] != "Accept, Accept-Encoding" {
				t.Errorf("%s %s: Vary %q", format, coding, vary)
			}
		}
	}
	for header, want := range map[string]string{
		"gzip;q=0.5, zstd;q=0.9, br;q=0.1": "zstd",
		"gzip, zstd;q=0.2":                 "gzip",
		"zstd;q=0, br;q=0, gzip;q=0.3":     "gzip",
		"br, gzip;q=0.8":                   "br",
		"identity":                         "",
		"compress, deflate;q=0":            "",
	} {
		resp, _ := raw(t, "GET", srv.URL+"/v1/customers", nil, "Accept-Encoding", header)
		if got := resp.Header.Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", header, got, want)
		}
	}
	// With CORS, Origin joins them.
	cors := httptest.NewServer(New(eng, Options{CORSOrigins: []string{"https://bi.example"}}).Handler())
	defer cors.Close()
	resp, _ := raw(t, "GET", cors.URL+"/v1/customers", nil, "Origin", "https://bi.example", "Accept-Encoding", "gzip")
	if vary := resp.Header.Values("Vary"); len(vary) != 1 || vary[0] != "Accept, Accept-Encoding, Origin" || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("CORS: Vary %q, Content-Encoding %q", vary, resp.Header.Get("Content-Encoding"))
	}
	// Binary formats and tiny bodies go out as they are.
	for _, url := range []string{"/v1/customers?format=arrow", "/v1/customers?format=parquet", "/v1/customers?limit=1&format=csv"} {
		resp, b := raw(t, "GET", srv.URL+url, nil, "Accept-Encoding", "gzip, br, zstd")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || len(b) == 0 {
			t.Errorf("%s: %d, Content-Encoding %q, %d bytes", url, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(b))
		}
	}
}

// If-None-Match as RFC 9110 says: weak comparison, lists, "*"; a 304 has
// no body and the ETag; a new generation gives a new tag.
func TestConditionalRequests(t *testing.T) {
	srv, eng := newTestServer(t)
	url := srv.URL + "/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&grain=month"
	resp, body := raw(t, "GET", url, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !regexp.MustCompile(`^W/"\d+-[0-9a-f]{24}"$`).MatchString(etag) {
		t.Fatalf("%d, ETag %q", resp.StatusCode, etag)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	strong := strings.TrimPrefix(etag, "W/")
	for _, inm := range []string{etag, strong, `"nope", ` + etag, `"a,b", W/"x" ,` + strong, "*"} {
		resp, b := raw(t, "GET", url, nil, "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || len(b) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q", inm, resp.StatusCode, len(b), resp.Header.Get("ETag"))
		}
		if resp.Header.Get("Cache-Control") != "private, no-cache" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept") {
			t.Errorf("If-None-Match %s: 304 without Cache-Control or Vary: %v", inm, resp.Header)
		}
	}
	for _, inm := range []string{`"nope"`, `W/"nope", "other"`, `garbage`, etag + "x"} {
		if resp, b := raw(t, "GET", url, nil, "If-None-Match", inm); resp.StatusCode != 200 || !bytes.Equal(b, body) {
			t.Errorf("If-None-Match %s: %d", inm, resp.StatusCode)
		}
	}
	// Another format of the same URL is another answer with its own tag.
	if resp, _ := raw(t, "GET", url, nil, "Accept", "text/csv", "If-None-Match", etag); resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("Accept text/csv with the JSON tag: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	// A write makes a new generation: the old tag no longer matches.
	gen := eng.Generation()
	if _, err := eng.Import(context.Background(), engine.ImportRequest{Kind: "orders", Path: filepath.Join("..", "engine", "testdata", "handbuilt", "orders.csv")}); err != nil {
		t.Fatal(err)
	}
	if eng.Generation() == gen {
		t.Fatal("the import made no new generation")
	}
	resp, _ = raw(t, "GET", url, nil, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == etag {
		t.Errorf("after a new generation: %d, ETag %q (was %q)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
	// Errors are neither tagged nor kept.
	resp, _ = raw(t, "GET", srv.URL+"/v1/kpis/nope/values", nil)
	if resp.StatusCode != 404 || resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error: %d, ETag %q, Cache-Control %q", resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
	// Writes are not kept either.
	resp, _ = raw(t, "PUT", srv.URL+"/v1/targets/revenue", strings.NewReader(`{"target": 1}`), "Content-Type", "application/json")
	if resp.StatusCode/100 != 2 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("ETag") != "" {
		t.Errorf("PUT: %d, Cache-Control %q, ETag %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
	}
}

// The import history changes with a refused import, which makes no new
// generation: its tag is of its bytes, so it changes too.
func TestConditionalContentTagged(t *testing.T) {
	srv, eng := newTestServer(t)
	resp, _ := raw(t, "GET", srv.URL+"/v1/datasets", nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `W/"c-`) || resp.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("%d, ETag %q, Cache-Control %q", resp.StatusCode, etag, resp.Header.Get("Cache-Control"))
	}
	if resp, b := raw(t, "GET", srv.URL+"/v1/datasets", nil, "If-None-Match", `"x", `+etag); resp.StatusCode != 304 || len(b) != 0 || resp.Header.Get("ETag") != etag {
		t.Errorf("unchanged: %d, %d bytes, ETag %q", resp.StatusCode, len(b), resp.Header.Get("ETag"))
	}
	bad := filepath.Join(t.TempDir(), "orders.csv")
	os.WriteFile(bad, []byte("order_id,amount\no1,5\n"), 0o644)
	gen := eng.Generation()
	if _, err := eng.Import(context.Background(), engine.ImportRequest{Kind: "orders", Path: bad}); err == nil {
		t.Fatal("an orders file without customer_id was imported")
	}
	if eng.Generation() != gen {
		t.Fatal("a refused import made a generation")
	}
	if resp, _ := raw(t, "GET", srv.URL+"/v1/datasets", nil, "If-None-Match", etag); resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("after a refused import: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
}

// A key's tags are its own: a key of another scope (which sees other
// customers) never gets a 304 for the first key's tag.
func TestConditionalScopedKeys(t *testing.T) {
	srv, eng := newTestServer(t)
	ctx := context.Background()
	north, err := eng.CreateKey(ctx, "north", engine.RoleReader, engine.Scope{"region": {"north"}})
	if err != nil {
		t.Fatal(err)
	}
	south, err := eng.CreateKey(ctx, "south", engine.RoleReader, engine.Scope{"region": {"south"}})
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/v1/customers"
	resp, _ := raw(t, "GET", url, nil, "Authorization", "Bearer "+north.Secret)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" {
		t.Fatalf("north: %d %q", resp.StatusCode, etag)
	}
	if resp, _ := raw(t, "GET", url, nil, "Authorization", "Bearer "+north.Secret, "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("north again: %d", resp.StatusCode)
	}
	resp, b := raw(t, "GET", url, nil, "Authorization", "Bearer "+south.Secret, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || strings.Contains(string(b), `"north"`) {
		t.Errorf("south with north's tag: %d, ETag %q, %s", resp.StatusCode, resp.Header.Get("ETag"), b)
	}
}

// HEAD answers every GET route with the GET's headers and no body.
func TestHead(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, path := range []string{"/v1/customers?format=csv&limit=2", "/v1/kpis", "/v1/kpis/revenue/values", "/v1/datasets", "/v1/health", "/readyz"} {
		for _, enc := range []string{"", "gzip"} {
			get, getBody := raw(t, "GET", srv.URL+path, nil, "Accept-Encoding", enc)
			head, headBody := raw(t, "HEAD", srv.URL+path, nil, "Accept-Encoding", enc)
			if head.StatusCode != 200 || len(headBody) != 0 {
				t.Errorf("HEAD %s (%s): %d, %d bytes", path, enc, head.StatusCode, len(headBody))
			}
			for _, h := range []string{"Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Link", "X-Total-Count"} {
				if head.Header.Get(h) != get.Header.Get(h) {
					t.Errorf("HEAD %s (%s): %s %q, GET %q", path, enc, h, head.Header.Get(h), get.Header.Get(h))
				}
			}
			// Content-Length as the GET's: known for a body sent whole,
			// absent (-1) for a chunked, compressed one.
			if head.ContentLength != get.ContentLength || get.ContentLength != -1 && get.ContentLength != int64(len(getBody)) {
				t.Errorf("HEAD %s (%s): Content-Length %d, GET %d with a body of %d bytes", path, enc, head.ContentLength, get.ContentLength, len(getBody))
			}
		}
	}
	// A conditional HEAD is a 304 as the GET is.
	get, _ := raw(t, "GET", srv.URL+"/v1/kpis", nil)
	if head, _ := raw(t, "HEAD", srv.URL+"/v1/kpis", nil, "If-None-Match", get.Header.Get("ETag")); head.StatusCode != 304 {
		t.Errorf("conditional HEAD: %d", head.StatusCode)
	}
	if head, _ := raw(t, "HEAD", srv.URL+"/v1/nope", nil); head.StatusCode != 404 {
		t.Errorf("HEAD of no route: %d", head.StatusCode)
	}
}

// X-Request-ID: a sane client id is echoed, in the log, in error bodies and
// in the audit log; anything else is replaced by a generated one.
func TestRequestID(t *testing.T) {
	srv, eng := newTestServer(t)
	var logs bytes.Buffer
	logged := httptest.NewServer(New(eng, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Handler())
	defer logged.Close()

	resp, _ := raw(t, "HEAD", logged.URL+"/v1/kpis", nil, "X-Request-ID", "trace-42:a/b=")
	if got := resp.Header.Get("X-Request-ID"); got != "trace-42:a/b=" {
		t.Errorf("echoed %q", got)
	}
	if !strings.Contains(logs.String(), "method=HEAD") || !strings.Contains(logs.String(), `request_id="trace-42:a/b="`) {
		t.Errorf("log line %q", logs.String())
	}
	seen := map[string]bool{}
	for _, sent := range []string{"", "has space", strings.Repeat("x", maxRequestID+1), "quote\"d", "ünï"} {
		resp, _ := raw(t, "GET", srv.URL+"/readyz", nil, "X-Request-ID", sent)
		got := resp.Header.Get("X-Request-ID")
		if got == sent || !validRequestID(got) || seen[got] {
			t.Errorf("sent %q: got %q", sent, got)
		}
		seen[got] = true
	}
	resp, b := raw(t, "GET", srv.URL+"/v1/kpis/nope/values", nil, "X-Request-ID", "req-404")
	if resp.StatusCode != 404 || decode(t, b)["error"].(map[string]any)["request_id"] != "req-404" {
		t.Errorf("error body %d %s", resp.StatusCode, b)
	}
	resp, b = raw(t, "GET", srv.URL+"/v1/kpis/nope/values", nil)
	if id := decode(t, b)["error"].(map[string]any)["request_id"]; id == nil || id != resp.Header.Get("X-Request-ID") {
		t.Errorf("generated id: body %v, header %q", id, resp.Header.Get("X-Request-ID"))
	}
	raw(t, "PUT", srv.URL+"/v1/targets/revenue", strings.NewReader(`{"target": 5}`), "Content-Type", "application/json", "X-Request-ID", "put-target-1")
	_, b = raw(t, "GET", srv.URL+"/v1/audit?limit=1", nil)
	var audit AuditList
	if err := json.Unmarshal(b, &audit); err != nil || len(audit.Changes) != 1 || audit.Changes[0].RequestID != "put-target-1" {
		t.Errorf("audit %s", b)
	}
}

// PUT answers 201 with Location when it creates, 200 when it replaces.
func TestPutCreatesThenReplaces(t *testing.T) {
	srv, _ := newTestServer(t)
	put := func(path, ct, body string) *http.Response {
		resp, b := raw(t, "PUT", srv.URL+path, strings.NewReader(body), "Content-Type", ct)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
		}
		return resp
	}
	target := `{"target": 100, "by": {"region": "north"}}`
	if resp := put("/v1/targets/revenue", "application/json", target); resp.StatusCode != 201 || resp.Header.Get("Location") != "/v1/targets/revenue" {
		t.Errorf("new target: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := put("/v1/targets/revenue", "application/json", target); resp.StatusCode != 200 || resp.Header.Get("Location") != "" {
		t.Errorf("same scope again: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := put("/v1/targets/revenue", "application/json", `{"target": 100}`); resp.StatusCode != 201 {
		t.Errorf("another scope: %d", resp.StatusCode)
	}
	doc := "name: big\nrules:\n  - tier: big\n    when: monetary > 100.0\ndefault: small\n"
	resp := put("/v1/rulesets/big", "application/yaml", doc)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/v1/rulesets/big" || resp.Header.Get("Content-Location") != "/v1/rulesets/big?version=1" {
		t.Errorf("new rule set: %d, Location %q, Content-Location %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Location"))
	}
	resp = put("/v1/rulesets/big", "application/yaml", strings.Replace(doc, "100.0", "200.0", 1))
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || resp.Header.Get("Content-Location") != "/v1/rulesets/big?version=2" {
		t.Errorf("second version: %d, Location %q, Content-Location %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Location"))
	}
}

// linkRels reads a Link header into rel → target.
func linkRels(t *testing.T, h string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`<([^>]*)>; rel="(\w+)"`).FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// Paged lists carry X-Total-Count and Link in every format; following next
// from the first page visits every customer once.
func TestPagingHeaders(t *testing.T) {
	srv, _ := newTestServer(t)
	f, err := os.Open(filepath.Join("..", "engine", "testdata", "handbuilt", "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	total := len(recs) - 1 // 6 customers in the file
	for _, format := range []string{"json", "csv", "arrow", "parquet"} {
		resp, _ := raw(t, "GET", srv.URL+"/v1/customers?limit=2&format="+format, nil)
		if resp.Header.Get("X-Total-Count") != "6" || total != 6 {
			t.Errorf("%s: X-Total-Count %q, want %d", format, resp.Header.Get("X-Total-Count"), total)
		}
		rels := linkRels(t, resp.Header.Get("Link"))
		if rels["next"] != "/v1/customers?format="+format+"&limit=2&offset=2" || rels["first"] == "" || rels["prev"] != "" || rels["last"] != "/v1/customers?format="+format+"&limit=2&offset=4" {
			t.Errorf("%s page 1: Link %v", format, rels)
		}
	}
	resp, _ := raw(t, "GET", srv.URL+"/v1/customers?limit=2&offset=2&order_by=monetary", nil)
	rels := linkRels(t, resp.Header.Get("Link"))
	if rels["prev"] != "/v1/customers?limit=2&offset=0&order_by=monetary" || rels["next"] != "/v1/customers?limit=2&offset=4&order_by=monetary" {
		t.Errorf("page 2: Link %v", rels)
	}
	// Follow next from the first page.
	seen := map[string]bool{}
	next := "/v1/customers?limit=4"
	for pages := 0; next != ""; pages++ {
		if pages > total {
			t.Fatal("next links do not end")
		}
		resp, b := raw(t, "GET", srv.URL+next, nil)
		var page CustomerList
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			id := r["customer_id"].(string)
			if seen[id] {
				t.Errorf("%s seen twice", id)
			}
			seen[id] = true
		}
		next = linkRels(t, resp.Header.Get("Link"))["next"]
	}
	if len(seen) != total {
		t.Errorf("%d customers by next links, want %d", len(seen), total)
	}
	// Assignments are paged the same way.
	if resp, b := raw(t, "POST", srv.URL+"/v1/rulesets/value_tiers/evaluate", nil); resp.StatusCode != 200 {
		t.Fatalf("evaluate: %d %s", resp.StatusCode, b)
	}
	resp, _ = raw(t, "GET", srv.URL+"/v1/rulesets/value_tiers/assignments?limit=5", nil)
	rels = linkRels(t, resp.Header.Get("Link"))
	if resp.Header.Get("X-Total-Count") != "6" || rels["next"] != "/v1/rulesets/value_tiers/assignments?limit=5&offset=5" {
		t.Errorf("assignments: %q %v", resp.Header.Get("X-Total-Count"), rels)
	}
	// A page past the end still counts and links back.
	resp, _ = raw(t, "GET", srv.URL+"/v1/customers?limit=4&offset=8", nil)
	rels = linkRels(t, resp.Header.Get("Link"))
	if resp.Header.Get("X-Total-Count") != "6" || rels["next"] != "" || rels["prev"] != "/v1/customers?limit=4&offset=4" {
		t.Errorf("past the end: %q %v", resp.Header.Get("X-Total-Count"), rels)
	}
}
