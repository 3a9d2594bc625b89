package api

import (
	"regexp"
	"testing"
)

var serverTiming = regexp.MustCompile(`^(kpi|scorecard);dur=[0-9.]+;desc="(fast|plain|cache)"$`)

// timingPath is the desc of a Server-Timing header, checking its form.
func timingPath(t *testing.T, h string) string {
	t.Helper()
	m := serverTiming.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("Server-Timing %q", h)
	}
	return m[2]
}

// Server-Timing says which path answered: churn_rate has a fast form;
// revenue one from the daily totals, also per region, and filtered by
// where= one per customer; churn's version 2 none; a repeated request is
// the cache's. The scorecard likewise.
func TestServerTimingNamesThePath(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, c := range []struct{ url, want string }{
		{"/v1/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01", "fast"},
		{"/v1/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01", "cache"},
		{"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-15", "fast"},                                  // the daily totals
		{"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&by=region", "fast"},                        // a calendar quarter: the rollups
		{"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-15&by=region", "fast"},                        // the daily totals per region
		{"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-15&by=region&where=monetary+%3E+100", "fast"}, // per customer
		{"/v1/kpis/churn_rate/values?version=2&from=2024-01-01&to=2024-04-15", "plain"},                    // no fast form
		{"/v1/scorecard?from=2024-01-01&to=2024-04-01", "fast"},
		{"/v1/scorecard?from=2024-01-01&to=2024-04-01", "cache"},
	} {
		status, h, body := get(t, srv.URL+c.url)
		if status != 200 {
			t.Fatalf("%s: status %d: %s", c.url, status, body)
		}
		if got := timingPath(t, h.Get("Server-Timing")); got != c.want {
			t.Errorf("%s: served by %s, want %s", c.url, got, c.want)
		}
	}
}
