package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeEndToEnd builds a demo database with the demo command, then
// starts `custkpi serve` on a free port against it, as a user would, and
// calls health, the catalog, a KPI and Swagger. Cancelling the context is
// the SIGINT path: the server must shut down cleanly.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.duckdb")
	ctx := context.Background()

	demo := newRootCommand()
	var demoOut strings.Builder
	demo.SetOut(&demoOut)
	demo.SetArgs([]string{"demo", "--db", db, "--customers", "2000", "--seed", "7", "--no-serve"})
	if err := demo.ExecuteContext(ctx); err != nil {
		t.Fatalf("demo: %v\n%s", err, demoOut.String())
	}
	if !strings.Contains(demoOut.String(), "imported orders") {
		t.Fatalf("demo output: %s", demoOut.String())
	}

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	pr, pw := io.Pipe()
	serve := newRootCommand()
	serve.SetOut(pw)
	serve.SetArgs([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- serve.ExecuteContext(serveCtx); pw.Close() }()

	// The first line names the address the server bound.
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v (exit: %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "custkpi API on "))
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	// serve listens before the database is open: /readyz says when it is.
	waitReady(t, base)

	getJSON := func(path string) map[string]any {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return m
	}
	h := getJSON("/v1/health")
	if h["status"] != "ok" || !strings.HasPrefix(h["duckdb_version"].(string), "v1.4") {
		t.Errorf("health %v", h)
	}
	ds, _ := h["datasets"].(map[string]any)
	for _, kind := range []string{"customers", "orders", "surveys", "tickets", "events", "acquisition_spend", "contracts"} {
		if ds[kind] == nil {
			t.Errorf("health does not list dataset %s", kind)
		}
	}
	cat := getJSON("/v1/kpis")
	if kpis, _ := cat["kpis"].([]any); len(kpis) < 10 {
		t.Errorf("catalog has %d KPIs", len(kpis))
	}
	v := getJSON("/v1/kpis/revenue/values?grain=quarter&by=region")
	rows, _ := v["rows"].([]any)
	if v["kpi"] != "revenue" || len(rows) < 4*4 {
		t.Errorf("revenue by quarter and region: %d rows", len(rows))
	}
	for _, r := range rows {
		if val, _ := r.(map[string]any)["value"].(float64); val <= 0 {
			t.Errorf("revenue row without revenue: %v", r)
		}
	}
	resp, err := http.Get(base + "/swagger/index.html")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "swagger") {
		t.Errorf("swagger UI: %d", resp.StatusCode)
	}
	doc := getJSON("/openapi.json")
	if paths, _ := doc["paths"].(map[string]any); paths["/kpis/{name}/values"] == nil {
		t.Errorf("OpenAPI document lacks the values endpoint")
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not shut down cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

// waitReady polls /readyz until it answers 200: before that, /v1/health
// answers "starting" and the API 503 not_ready.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("/readyz answered %d", resp.StatusCode)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after a minute: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
