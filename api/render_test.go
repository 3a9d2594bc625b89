package api

import (
	"strings"
	"testing"
)

// Accept picks the format deterministically: highest q, then the order
// listed; unknown types are ignored; no Accept and wildcards answer JSON;
// a header that admits nothing served is a 406 (TestNotAcceptable).
func TestAcceptNegotiation(t *testing.T) {
	srv, _ := newTestServer(t)
	const (
		json    = "application/json"
		csv     = "text/csv"
		arrow   = "application/vnd.apache.arrow.stream"
		parquet = "application/vnd.apache.parquet"
	)
	cases := []struct{ accept, want string }{
		{"", json},
		{"*/*", json},
		{"text/csv, application/json", csv},
		{"application/json, text/csv", json},
		{"text/csv;q=0.5, application/vnd.apache.parquet", parquet},
		{"application/vnd.apache.parquet; q=0.8, text/csv; q=0.9", csv},
		{"application/vnd.apache.parquet, text/csv", parquet},
		{"text/csv, application/vnd.apache.parquet", csv},
		{"application/xml, text/csv;q=0.1", csv},
		{"application/x-ndjson;q=0.5, application/xml", "application/x-ndjson"},
		{"text/*", csv},
		{"*/*;q=0.1, application/vnd.apache.arrow.stream", arrow},
		{"application/json;q=0, */*", csv},
		{"text/csv;q=banana, application/vnd.apache.parquet;q=0.2", parquet},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", json},
	}
	for _, c := range cases {
		// The same header must give the same answer every time.
		for range 3 {
			status, h, body := get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01", "Accept", c.accept)
			if got := h.Get("Content-Type"); status != 200 || !strings.HasPrefix(got, c.want) {
				t.Errorf("Accept %q: %d %s, want %s (%.80s)", c.accept, status, got, c.want, body)
				break
			}
		}
	}
}
