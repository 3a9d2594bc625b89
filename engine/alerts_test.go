package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint that fails its first request with 503
// and records every request's body and signature.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	sigs   []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(body))
	r.sigs = append(r.sigs, req.Header.Get(SignatureHeader))
	if len(r.bodies) == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func TestAlertWebhook(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	e.ConfigureAlerts(AlertOptions{AllowLoopback: true, Backoff: time.Millisecond, BaseURL: "http://kpi.example"})
	target := func(v float64) {
		if _, err := e.SetTarget(ctx, Target{KPI: "orders", Target: v, Direction: "higher_is_better"}); err != nil {
			t.Fatal(err)
		}
	}
	target(1000) // far above the orders counted: alert
	if _, err := e.PutAlert(ctx, "orders_low", AlertSpec{KPI: "orders", On: []string{"warn", "alert"}, Webhook: srv.URL + "/hook", Secret: "s3cret"}); err != nil {
		t.Fatal(err)
	}

	// Entering alert: one delivery, the first attempt refused (503), the
	// second accepted; both attempts carry the same signed body.
	c, err := e.CheckAlert(ctx, "orders_low")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sent || c.Status != "alert" || c.PreviousStatus != nil || c.Delivery.Attempts != 2 || *c.Delivery.HTTPStatus != 204 {
		t.Fatalf("check %+v delivery %+v", c, c.Delivery)
	}
	if rcv.count() != 2 || rcv.bodies[0] != rcv.bodies[1] {
		t.Fatalf("receiver got %d requests: %v", rcv.count(), rcv.bodies)
	}
	if rcv.sigs[1] != Sign("s3cret", []byte(rcv.bodies[1])) || !strings.HasPrefix(rcv.sigs[1], "sha256=") {
		t.Errorf("signature %q does not match the body", rcv.sigs[1])
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(rcv.bodies[1]), &p); err != nil {
		t.Fatal(err)
	}
	if p["kpi"] != "orders" || p["status"] != "alert" || p["target"] != 1000.0 || p["value"] == nil ||
		!strings.HasPrefix(p["link"].(string), "http://kpi.example/v1/kpis/orders/explain?from=") {
		t.Errorf("payload %v", p)
	}

	// Unchanged: nothing sent again.
	if c, err := e.CheckAlert(ctx, "orders_low"); err != nil || c.Changed || c.Sent || rcv.count() != 2 {
		t.Fatalf("unchanged state: %+v %v, %d requests", c, err, rcv.count())
	}
	// Back to ok (not in on): a change, nothing sent.
	target(1)
	if c, err := e.CheckAlert(ctx, "orders_low"); err != nil || !c.Changed || c.Sent || c.Status != "ok" || rcv.count() != 2 {
		t.Fatalf("to ok: %+v %v, %d requests", c, err, rcv.count())
	}

	// After an import the alerts are evaluated in the background: the
	// target moved back above the value, so alert is entered again.
	e.ConfigureAlerts(AlertOptions{AfterImport: true, AllowLoopback: true, Backoff: time.Millisecond})
	target(1000)
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	e.WaitAlerts()
	if rcv.count() != 3 {
		t.Fatalf("after import: %d requests, want 3", rcv.count())
	}
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	e.WaitAlerts()
	if rcv.count() != 3 {
		t.Fatalf("an import that changed no status sent again: %d requests", rcv.count())
	}

	log, err := e.AlertDeliveries(ctx, "orders_low", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Outcome != "delivered" || log[0].Attempts != 1 || *log[0].PreviousStatus != "ok" || log[1].Attempts != 2 {
		t.Errorf("delivery log %+v", log)
	}
}

// A webhook that keeps failing is tried Attempts times and logged failed.
func TestAlertWebhookGivesUp(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	e.ConfigureAlerts(AlertOptions{AllowLoopback: true, Backoff: time.Millisecond, Attempts: 3})
	if _, err := e.SetTarget(ctx, Target{KPI: "orders", Target: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutAlert(ctx, "a", AlertSpec{KPI: "orders", On: []string{"alert"}, Webhook: srv.URL}); err != nil {
		t.Fatal(err)
	}
	c, err := e.CheckAlert(ctx, "a")
	if err != nil || c.Sent || c.Delivery.Outcome != "failed" || c.Delivery.Attempts != 3 || n != 3 {
		t.Fatalf("%+v %v, %d requests", c, err, n)
	}
}

func TestAlertBadInput(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	cases := map[string]AlertSpec{
		"unknown kpi": {KPI: "nope", On: []string{"alert"}, Webhook: "https://hooks.example.com/x"},
		"matrix":      {KPI: "cohort_retention", On: []string{"alert"}, Webhook: "https://hooks.example.com/x"},
		"bad state":   {KPI: "orders", On: []string{"red"}, Webhook: "https://hooks.example.com/x"},
		"no states":   {KPI: "orders", Webhook: "https://hooks.example.com/x"},
		"ftp":         {KPI: "orders", On: []string{"alert"}, Webhook: "ftp://hooks.example.com/x"},
		"loopback":    {KPI: "orders", On: []string{"alert"}, Webhook: "http://127.0.0.1:9/x"},
		"localhost":   {KPI: "orders", On: []string{"alert"}, Webhook: "http://localhost/x"},
		"unspecified": {KPI: "orders", On: []string{"alert"}, Webhook: "http://[::]/x"},
		"no host":     {KPI: "orders", On: []string{"alert"}, Webhook: "https:///x"},
		"credentials": {KPI: "orders", On: []string{"alert"}, Webhook: "https://u:p@hooks.example.com/x"},
	}
	for name, spec := range cases {
		if _, err := e.PutAlert(ctx, "x", spec); ErrorCode(err) != CodeInvalidParameter {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.PutAlert(ctx, "x", AlertSpec{KPI: "orders", By: map[string]string{"shoe": "42"}, On: []string{"alert"}, Webhook: "https://hooks.example.com/x"}); ErrorCode(err) != CodeUnknownDimension {
		t.Errorf("unknown by: %v", err)
	}
	// The dialer refuses a loopback address even when the name passed.
	client := webhookClient(false, time.Second)
	if _, err := client.Post("http://127.0.0.1:9/x", "application/json", nil); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("dial loopback: %v", err)
	}
}

// An alert for one dimension value watches that group's value against the
// KPI's own target when the scope has none.
func TestAlertByDimension(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	e.ConfigureAlerts(AlertOptions{AllowLoopback: true})
	if _, err := e.SetTarget(ctx, Target{KPI: "orders", Target: 5, Direction: "higher_is_better"}); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"north", "south"} {
		if _, err := e.PutAlert(ctx, region, AlertSpec{KPI: "orders", By: map[string]string{"region": region}, On: []string{"alert"}, Webhook: "https://hooks.example.com/x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Completed orders over the default window (all of the data): north
	// (c1, c2) has o1–o4, o6 and o12 (o5 was returned), 6 ≥ 5: ok; south
	// (c3, c4) o7, o8 and o10 (o9 was cancelled), 3 < 5: alert.
	north, _, _, err := e.alertRow(ctx, &Alert{KPI: "orders", By: map[string]string{"region": "north"}})
	if err != nil {
		t.Fatal(err)
	}
	south, _, _, err := e.alertRow(ctx, &Alert{KPI: "orders", By: map[string]string{"region": "south"}})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "north", north.Value, 6)
	approx(t, "south", south.Value, 3)
	if north.Status == nil || *north.Status != "ok" || south.Status == nil || *south.Status != "alert" {
		t.Errorf("north %+v south %+v", north, south)
	}
}
