package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The real binary with keys: no key 401, a reader's write 403, a scoped
// key's revenue the north row of revenue by region.
func TestBinaryWithKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	for _, kind := range []string{"customers", "orders"} {
		run(t, bin, nil, "import", "--db", db, kind, filepath.Join(handbuilt, kind+".csv"), "-q")
	}
	reader := strings.TrimSpace(run(t, bin, nil, "keys", "create", "--db", db, "--name", "bi", "--role", "reader"))
	north := strings.TrimSpace(run(t, bin, nil, "keys", "create", "--db", db, "--name", "north", "--role", "reader", "--scope", "region=north"))
	srv := startCmd(t, exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0"), "")
	defer srv.stop(t)
	do := func(method, path, key string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.base+path, strings.NewReader(`{"target": 1}`))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, _ := do("GET", "/v1/kpis", ""); status != 401 {
		t.Errorf("no key: %d", status)
	}
	if status, _ := do("PUT", "/v1/targets/revenue", reader); status != 403 {
		t.Errorf("a reader's write: %d", status)
	}
	const q = "/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01"
	_, all := do("GET", q+"&by=region", reader)
	var want any
	for _, r := range all["rows"].([]any) {
		if r.(map[string]any)["region"] == "north" {
			want = r.(map[string]any)["value"]
		}
	}
	_, mine := do("GET", q, north)
	if got := mine["rows"].([]any)[0].(map[string]any)["value"]; got != want || want == nil {
		t.Errorf("north-scoped revenue %v, the north row %v", got, want)
	}
}
