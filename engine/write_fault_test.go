package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"custkpi/engine"
	"custkpi/engine/demo"
)

// A write that dies of its deadline, or is cancelled, rolls back whole: the
// generation, the history of successful imports and every answer stay as
// they were, and the same write then succeeds.
func TestWriteTimeoutAndCancelLeaveTheGenerationAlone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files, err := demo.Generate(ctx, dir, demo.Options{Customers: 30000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.ImportBatch(ctx, []engine.ImportRequest{{Kind: "customers", Path: files["customers"]}, {Kind: "orders", Path: files["orders"]}}); err != nil {
		t.Fatal(err)
	}
	q := engine.Query{KPI: "revenue", From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	before, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	gen := e.Generation()
	events := []engine.ImportRequest{{Kind: "events", Path: files["events"]}, {Kind: "orders", Path: files["orders"], Mode: "replace"}}

	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = e.ImportBatch(short, events)
	if engine.ErrorCode(err) != engine.CodeTimeout {
		t.Fatalf("import past its deadline: %v, want timeout", err)
	}
	gone, cancelNow := context.WithCancel(ctx)
	cancelNow()
	if _, err = e.ImportBatch(gone, events); engine.ErrorCode(err) != engine.CodeCanceled && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import: %v", err)
	}
	if e.Generation() != gen {
		t.Fatalf("a failed write moved the generation %d -> %d", gen, e.Generation())
	}
	for _, d := range e.Datasets() {
		if d.Kind == "events" {
			t.Fatal("a failed import left its dataset")
		}
	}
	after, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if after.Rows[0][0] != before.Rows[0][0] || after.Fingerprint != before.Fingerprint {
		t.Errorf("answer changed: %v %s -> %v %s", before.Rows, before.Fingerprint, after.Rows, after.Fingerprint)
	}
	if _, err := e.ImportBatch(ctx, events); err != nil || e.Generation() != gen+1 {
		t.Fatalf("the same import afterwards: %v, generation %d", err, e.Generation())
	}
}
