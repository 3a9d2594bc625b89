package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"custkpi/engine"
)

// The analyses answer over HTTP, and bad input is a 4xx naming what is
// wrong.
func TestAnalysesEndpoints(t *testing.T) {
	srv, _ := newTestServer(t)
	status, m := do(t, http.MethodGet, srv.URL+"/v1/kpis/avg_order_value/explain?from=2024-01-01&to=2024-04-01", "")
	if status != 200 || m["total_change"] != -90.0 || len(m["drivers"].([]any)) == 0 {
		t.Fatalf("explain %d %v", status, m)
	}
	cases := []struct {
		method, path, body string
		status             int
		code, says         string
	}{
		{"GET", "/v1/kpis/cohort_retention/explain", "", 400, "invalid_parameter", "matrix"},
		{"GET", "/v1/kpis/revenue/explain?by=region", "", 400, "invalid_parameter", "every dimension"},
		{"GET", "/v1/satisfaction/drivers", "", 409, "missing_dataset", "surveys"},
		{"GET", "/v1/satisfaction/drivers?compare=maybe", "", 400, "invalid_parameter", "compare"},
		{"GET", "/v1/scorecard?pack=nope", "", 404, "not_found", "pack"},
		{"PUT", "/v1/packs/mine", `{"goal": "g", "kpis": [{"kpi": "nope"}]}`, 400, "invalid_parameter", "nope"},
		{"PUT", "/v1/alerts/a", `{"kpi": "nope", "on": ["alert"], "webhook": "https://hooks.example.com/x"}`, 400, "invalid_parameter", "nope"},
		{"PUT", "/v1/alerts/a", `{"kpi": "orders", "on": ["alert"], "webhook": "http://127.0.0.1:9/x"}`, 400, "invalid_parameter", "loopback"},
		{"PUT", "/v1/alerts/a", `{"kpi": "orders", "on": ["alert"], "webhook": "file:///etc/passwd"}`, 400, "invalid_parameter", "http"},
		{"PUT", "/v1/alerts/a", `{"kpi": "orders", "whom": 1}`, 400, "invalid_body", "whom"},
		{"POST", "/v1/alerts/nope/check", "", 404, "not_found", "nope"},
	}
	for _, c := range cases {
		status, m := do(t, c.method, srv.URL+c.path, c.body)
		e, _ := m["error"].(map[string]any)
		if status != c.status || e["code"] != c.code || !strings.Contains(e["message"].(string), c.says) {
			t.Errorf("%s %s: %d %v", c.method, c.path, status, m)
		}
	}
	status, m = do(t, http.MethodGet, srv.URL+"/v1/scorecard?pack=retention&from=2024-01-01&to=2024-04-01", "")
	if rows := m["rows"].([]any); status != 200 || len(rows) != 5 || rows[0].(map[string]any)["kpi"] != "repeat_purchase_rate" {
		t.Errorf("pack scorecard %d %v", status, m)
	}
	if status, _ := do(t, http.MethodPut, srv.URL+"/v1/packs/mine", `{"goal": "Two numbers.", "kpis": [{"kpi": "orders"}]}`); status != 201 {
		t.Errorf("put pack %d", status)
	}
}

// An alert through the API reaches an httptest receiver signed, once.
func TestAlertEndpoints(t *testing.T) {
	srv, eng := newTestServer(t)
	eng.ConfigureAlerts(engine.AlertOptions{AllowLoopback: true, Backoff: time.Millisecond})
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte("k"))
		m.Write(b)
		if r.Header.Get("X-Custkpi-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	if _, err := eng.SetTarget(context.Background(), engine.Target{KPI: "orders", Target: 1000}); err != nil {
		t.Fatal(err)
	}
	status, m := do(t, http.MethodPut, srv.URL+"/v1/alerts/low_orders", `{"kpi": "orders", "on": ["alert"], "webhook": "`+hook.URL+`", "secret": "k"}`)
	if status != 201 || m["signed"] != true || m["secret"] != nil {
		t.Fatalf("put alert %d %v", status, m)
	}
	for i := range 2 {
		status, m = do(t, http.MethodPost, srv.URL+"/v1/alerts/low_orders/check", "")
		if status != 200 || m["sent"] != (i == 0) {
			t.Fatalf("check %d: %d %v", i, status, m)
		}
	}
	status, m = do(t, http.MethodGet, srv.URL+"/v1/alerts/low_orders/deliveries", "")
	ds := m["deliveries"].([]any)
	if status != 200 || len(ds) != 1 || ds[0].(map[string]any)["outcome"] != "delivered" || len(got) != 1 {
		t.Errorf("deliveries %d %v; received %v", status, m, got)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/v1/alerts/low_orders", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("delete %d", resp.StatusCode)
	}
}
