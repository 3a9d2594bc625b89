package engine

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// Measured case "--timeout does not bound every request": each entry point
// takes one deadline from --timeout (QueryTimeout) at its entry and answers
// a timeout past it, never an internal error (500) nor an answer computed
// past the deadline. A deadline of a nanosecond has passed before any
// statement runs.
func TestEveryEntryPointHonoursTheQueryTimeout(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	if _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	e.opts.QueryTimeout = time.Nanosecond
	e.cache = newResultCache(-1) // a cached answer runs nothing
	q := Query{KPI: "revenue", From: date("2024-01-01"), To: date("2025-01-01"), By: []string{"region"}}
	calls := map[string]func() error{
		"kpi values":      func() error { _, err := e.Run(ctx, q); return err },
		"customers":       func() error { _, err := e.Customers(ctx, CustomerQuery{}); return err },
		"customers where": func() error { _, err := e.Customers(ctx, CustomerQuery{Where: `region.matches("^n")`}); return err },
		"customer detail": func() error { _, err := e.Customer(ctx, "c1"); return err },
		"scorecard":       func() error { _, err := e.Scorecard(ctx, time.Time{}, time.Time{}); return err },
		"variance":        func() error { _, err := e.Variance(ctx, q); return err },
		"diff":            func() error { _, err := e.Diff(ctx, Query{KPI: "churn_rate"}, 1, 2); return err },
		"transitions": func() error {
			_, err := e.RuleSetTransitions(ctx, "value_tiers", 1, 1, time.Time{}, time.Time{})
			return err
		},
		"assignments": func() error { _, err := e.Assignments(ctx, "value_tiers", 0, "", 10, 0); return err },
		"set target":  func() error { _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1}); return err },
		"save rule set": func() error {
			_, err := e.SaveRuleSet(ctx, "t", []byte("name: t\nrules:\n  - tier: big\n    when: monetary > 100.0\ndefault: small\n"))
			return err
		},
		"delete targets": func() error { _, err := e.DeleteTargets(ctx, "revenue", nil, false); return err },
	}
	for name, call := range calls {
		if err := call(); ErrorCode(err) != CodeTimeout {
			t.Errorf("%s: %v, want a timeout", name, err)
		}
	}
}

// Imports, evaluations and fits take --job-timeout (JobTimeout), not the
// query timeout, and stop at it with a timeout that rolled everything back.
func TestLongWritesHonourTheJobTimeout(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	gen := e.Generation()
	e.opts.QueryTimeout = time.Nanosecond // not theirs: they still run
	if _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, time.Time{}, false); err != nil {
		t.Fatalf("evaluation under a tiny query timeout: %v", err)
	}
	gen = e.Generation()
	e.opts.JobTimeout = time.Nanosecond
	calls := map[string]func() error{
		"import": func() error {
			_, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: "testdata/handbuilt/orders.csv"})
			return err
		},
		"evaluate": func() error { _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, time.Time{}, false); return err },
		"clv fit":  func() error { _, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("2024-03-01")}); return err },
	}
	for name, call := range calls {
		if err := call(); ErrorCode(err) != CodeTimeout {
			t.Errorf("%s: %v, want a timeout", name, err)
		}
	}
	if e.Generation() != gen {
		t.Errorf("generation %d after timed-out writes, want %d", e.Generation(), gen)
	}
}

// Measured case "a write that never ends blocks every import, target,
// evaluation and fit": while one write holds the write lock, another whose
// deadline passes while it waits answers busy (503, Retry-After) at its
// deadline, and nothing of it runs.
func TestWriteWaitingForTheLockAnswersBusy(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := e.write(ctx, "hold", false, func(context.Context, *sql.Conn, int64) error {
			close(held)
			<-release
			return nil
		})
		done <- err
	}()
	<-held
	defer func() {
		close(release)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	gen := e.Generation()
	for name, call := range map[string]func(ctx context.Context) error{
		"import": func(ctx context.Context) error {
			_, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: "testdata/handbuilt/orders.csv"})
			return err
		},
		"set target": func(ctx context.Context) error {
			_, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1})
			return err
		},
		"evaluate": func(ctx context.Context) error {
			_, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, time.Time{}, false)
			return err
		},
		"clv fit": func(ctx context.Context) error {
			_, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("2024-03-01")})
			return err
		},
	} {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		start := time.Now()
		err := call(short)
		cancel()
		if ErrorCode(err) != CodeBusy {
			t.Errorf("%s: %v, want busy", name, err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s waited %s", name, el)
		}
	}
	if e.Generation() != gen {
		t.Errorf("generation moved to %d", e.Generation())
	}
}
