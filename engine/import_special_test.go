//go:build unix

package engine

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Measured case "importing /dev/zero or a FIFO never ends": only regular
// files are importable; a device, a FIFO (with no writer, which would block
// the open itself) or a directory is refused at once with invalid_dataset,
// and the data loaded before answers as before.
func TestImportDevZeroAndFIFOAreRefused(t *testing.T) {
	e := handBuilt(t)
	gen := e.Generation()
	fifo := filepath.Join(t.TempDir(), "orders.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "a character device"},
		{fifo, "a named pipe"},
		{t.TempDir(), "a directory"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		_, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: c.path, Format: "csv"})
		cancel()
		if ErrorCode(err) != CodeInvalidDataset || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "only regular files") {
			t.Errorf("%s: %v, want invalid_dataset naming %s", c.path, err, c.want)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: refused after %s", c.path, el)
		}
	}
	if e.Generation() != gen || e.dataset("orders").Rows == 0 {
		t.Errorf("the refused imports changed the data")
	}
}
