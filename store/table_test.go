package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestColumnTypes: a table's columns in order with their types, and a
// table that is not there has none (and does not exist), not an error.
func TestColumnTypes(t *testing.T) {
	ctx := context.Background()
	// A file whose name holds a space and a quote: so does its catalog's.
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), `north "shop".duckdb`)}, loadGen)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE shop (zeta INTEGER, alpha VARCHAR, day DATE)"); err != nil {
		t.Fatal(err)
	}
	names, types, err := ColumnTypes(ctx, conn, "shop")
	if err != nil || !slices.Equal(names, []string{"zeta", "alpha", "day"}) || !slices.Equal(types, []string{"INTEGER", "VARCHAR", "DATE"}) {
		t.Errorf("shop: %v %v %v", names, types, err)
	}
	if ok, err := TableExists(ctx, conn, "shop"); !ok || err != nil {
		t.Errorf("shop exists: %v %v", ok, err)
	}
	names, types, err = ColumnTypes(ctx, conn, "nowhere")
	if names != nil || types != nil || err != nil {
		t.Errorf("nowhere: %v %v %v", names, types, err)
	}
	if ok, err := TableExists(ctx, conn, "nowhere"); ok || err != nil {
		t.Errorf("nowhere exists: %v %v", ok, err)
	}
}
