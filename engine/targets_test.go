package engine

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A scope value holding the key's separators (';', '=') round-trips, the
// scorecard answers for it, and deleting that scope removes it alone.
func TestTargetScopeWithSeparators(t *testing.T) {
	e := mustOpen(t)
	ctx := context.Background()
	// The hand-built customers with region "north" renamed "north;south".
	b, err := os.ReadFile("testdata/handbuilt/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	customers := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(customers, []byte(strings.ReplaceAll(string(b), "north", "north;south")), 0o644); err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "customers", customers)
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")

	// The last two scopes had the same key "region=east;segment=b2c"
	// before the separators were escaped: the second replaced the first.
	scopes := []map[string]string{
		{"region": "north;south"},
		{"region": "east", "segment": "b2c"},
		{"region": "east;segment=b2c"},
	}
	for i, by := range scopes {
		if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: float64(100 * (i + 1)), By: by}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.Targets(ctx, "revenue")
	if err != nil || len(list) != 3 {
		t.Fatalf("targets: %v %v", list, err)
	}
	for i, by := range scopes {
		found := false
		for _, tg := range list {
			found = found || (maps.Equal(tg.By, by) && tg.Target == float64(100*(i+1)))
		}
		if !found {
			t.Errorf("scope %v (target %d) not read back: %v", by, 100*(i+1), list)
		}
	}

	sc, err := e.Scorecard(ctx, date("2024-01-01"), date("2024-04-01"))
	if err != nil {
		t.Fatalf("scorecard: %v", err)
	}
	rows := map[string]ScorecardRow{}
	for _, r := range sc.Rows {
		if r.KPI == "revenue" && r.By != nil {
			rows[scopeKey(r.By)] = r
		}
	}
	// c1 50+80+30 (c2's January order was returned): 160 ≥ 100, ok. east
	// b2c is c5's 90 < 200 (alert); no customer is in region
	// "east;segment=b2c": 0 < 300 (alert).
	for _, w := range []struct {
		by     map[string]string
		value  float64
		status string
	}{{scopes[0], 160, "ok"}, {scopes[1], 90, "alert"}, {scopes[2], 0, "alert"}} {
		r, ok := rows[scopeKey(w.by)]
		if !ok {
			t.Errorf("no scorecard row for %v", w.by)
			continue
		}
		approx(t, "revenue "+scopeKey(w.by), r.Value, w.value)
		if r.Status == nil || *r.Status != w.status {
			t.Errorf("%v: status %v, want %s", w.by, r.Status, w.status)
		}
	}

	n, err := e.DeleteTargets(ctx, "revenue", scopes[0], true)
	if err != nil || n != 1 {
		t.Fatalf("delete north;south: %d %v", n, err)
	}
	if n, err = e.DeleteTargets(ctx, "revenue", scopes[1], true); err != nil || n != 1 {
		t.Fatalf("delete east/b2c: %d %v", n, err)
	}
	if list, _ := e.Targets(ctx, "revenue"); len(list) != 1 || !maps.Equal(list[0].By, scopes[2]) {
		t.Errorf("after deletes: %v", list)
	}
}

// TestScorecardOneGeneration: a write landing while a scorecard is computed
// (here a target change, between the rows and the check) makes it compute
// again, so the answer is of the new generation throughout (the new target
// is on its orders row); a write every time answers busy.
func TestScorecardOneGeneration(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	passes := 0
	scorecardRaceHook = func() {
		passes++
		if passes == 1 {
			if _, err := e.SetTarget(ctx, Target{KPI: "orders", Target: 7, Direction: "higher_is_better"}); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { scorecardRaceHook = nil }()
	sc, err := e.Scorecard(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if passes != 2 {
		t.Errorf("computed %d times, want 2 (once more after the write)", passes)
	}
	found := false
	for _, r := range sc.Rows {
		if r.KPI == "orders" && r.By == nil {
			found = true
			if r.Target == nil || *r.Target != 7 {
				t.Errorf("orders row of the scorecard: target %v, want 7 (the generation after the write)", r.Target)
			}
		}
	}
	if !found {
		t.Fatal("no orders row")
	}

	n := 0.0
	scorecardRaceHook = func() {
		n++
		if _, err := e.SetTarget(ctx, Target{KPI: "orders", Target: 10 + n, Direction: "higher_is_better"}); err != nil {
			t.Error(err)
		}
	}
	if _, err := e.Scorecard(ctx, time.Time{}, time.Time{}); ErrorCode(err) != CodeBusy {
		t.Errorf("a write during every pass: %v, want busy", err)
	}
}

// TestScorecardComputedOnce: a caller asking for a scorecard that is being
// computed (the warm-up after an import, another request) waits for that
// computation instead of starting its own; one whose leader was cancelled
// computes its own.
func TestScorecardComputedOnce(t *testing.T) {
	e := handBuilt(t)
	var calls atomic.Int32
	release := make(chan struct{})
	scorecardComputeHook = func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	defer func() { scorecardComputeHook = nil }()

	first := goScorecard(context.Background(), e, time.Time{}, time.Time{})
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := goScorecard(context.Background(), e, time.Time{}, time.Time{})
	time.Sleep(300 * time.Millisecond) // the second caller joins meanwhile
	close(release)
	ra, rb := <-first, <-second
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	a, b := ra.sc, rb.sc
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times for two concurrent callers, want 1", n)
	}
	if a == nil || b == nil || len(a.Rows) == 0 || !reflect.DeepEqual(a.Rows, b.Rows) {
		t.Fatalf("the callers got different scorecards")
	}

	// A leader cancelled while a second caller waits: the second computes
	// its own (another window, so the cache does not answer).
	calls.Store(0)
	release = make(chan struct{})
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	leader := goScorecard(ctx, e, from, to)
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	follower := goScorecard(context.Background(), e, from, to)
	time.Sleep(300 * time.Millisecond)
	cancel()
	if r := <-leader; r.err == nil {
		t.Error("the cancelled leader answered")
	}
	if r := <-follower; r.err != nil {
		t.Errorf("the follower of a cancelled leader: %v", r.err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("computed %d times, want 2 (the follower on its own)", n)
	}
}

// scorecardResult is what a Scorecard call running in the background
// answered.
type scorecardResult struct {
	sc  *Scorecard
	err error
}

// goScorecard asks for a scorecard in the background.
func goScorecard(ctx context.Context, e *Engine, from, to time.Time) <-chan scorecardResult {
	out := make(chan scorecardResult, 1)
	go func() {
		sc, err := e.Scorecard(ctx, from, to)
		out <- scorecardResult{sc, err}
	}()
	return out
}
