package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"custkpi/engine"
)

func sessionDo(t *testing.T, method, url, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		m = decode(t, b)
	}
	return resp, m
}

func TestSessionCookie(t *testing.T) {
	srv, eng := newTestServer(t)
	k, err := eng.CreateKey(t.Context(), "planner", engine.RoleAnalyst, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Wrong key, bad body, wrong type.
	if resp, m := sessionDo(t, "POST", srv.URL+"/v1/session", `{"key": "nope"}`, "Content-Type", "application/json"); resp.StatusCode != 401 || m["error"].(map[string]any)["code"] != "unauthenticated" {
		t.Errorf("wrong key: %d %v", resp.StatusCode, m)
	}
	if resp, _ := sessionDo(t, "POST", srv.URL+"/v1/session", `{"secret": "x"}`, "Content-Type", "application/json"); resp.StatusCode != 400 {
		t.Errorf("bad body: %d", resp.StatusCode)
	}
	if resp, _ := sessionDo(t, "POST", srv.URL+"/v1/session", `{"key": "`+k.Secret+`"}`, "Content-Type", "text/plain"); resp.StatusCode != 415 {
		t.Errorf("text/plain: %d", resp.StatusCode)
	}

	resp, m := sessionDo(t, "POST", srv.URL+"/v1/session", `{"key": "`+k.Secret+`"}`, "Content-Type", "application/json")
	if resp.StatusCode != 200 || m["role"] != "analyst" || m["name"] != "planner" || m["via"] != "cookie" {
		t.Fatalf("login: %d %v", resp.StatusCode, m)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			ck = c
		}
	}
	if ck == nil || ck.Value != k.Secret || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/v1" {
		t.Fatalf("cookie %+v", ck)
	}
	cookie := SessionCookie + "=" + ck.Value

	// The cookie authenticates reads, as the header does.
	if resp, m := sessionDo(t, "GET", srv.URL+"/v1/session", "", "Cookie", cookie); resp.StatusCode != 200 || m["via"] != "cookie" || m["role"] != "analyst" {
		t.Errorf("whoami by cookie: %d %v", resp.StatusCode, m)
	}
	if resp, m := sessionDo(t, "GET", srv.URL+"/v1/session", "", "Authorization", "Bearer "+k.Secret); resp.StatusCode != 200 || m["via"] != "header" {
		t.Errorf("whoami by header: %d %v", resp.StatusCode, m)
	}
	if resp, _ := sessionDo(t, "GET", srv.URL+"/v1/session", ""); resp.StatusCode != 401 {
		t.Errorf("whoami without key or cookie, keys existing: %d", resp.StatusCode)
	}
	// A change by cookie needs X-Requested-With.
	if resp, m := sessionDo(t, "PUT", srv.URL+"/v1/targets/revenue", `{"target": 100}`, "Cookie", cookie, "Content-Type", "application/json"); resp.StatusCode != 403 ||
		!strings.Contains(m["error"].(map[string]any)["message"].(string), "X-Requested-With") {
		t.Errorf("cookie change without X-Requested-With: %d %v", resp.StatusCode, m)
	}
	if resp, m := sessionDo(t, "PUT", srv.URL+"/v1/targets/revenue", `{"target": 100}`, "Cookie", cookie, "Content-Type", "application/json", "X-Requested-With", "test"); resp.StatusCode != 201 {
		t.Errorf("cookie change with X-Requested-With: %d %v", resp.StatusCode, m)
	}
	// A revoked key ends the session.
	if err := eng.RevokeKey(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := sessionDo(t, "GET", srv.URL+"/v1/session", "", "Cookie", cookie); resp.StatusCode != 401 {
		t.Errorf("revoked key's cookie: %d", resp.StatusCode)
	}
	// Logging out clears the cookie, without a key.
	resp, _ = sessionDo(t, "DELETE", srv.URL+"/v1/session", "")
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}

func TestSessionProtectedMode(t *testing.T) {
	srv, _ := newTestServer(t)
	if resp, m := sessionDo(t, "GET", srv.URL+"/v1/session", ""); resp.StatusCode != 200 || m["via"] != "local" || m["role"] != "admin" {
		t.Errorf("protected mode: %d %v", resp.StatusCode, m)
	}
}

func TestScorecardFilter(t *testing.T) {
	srv, _ := newTestServer(t)
	const window = "from=2024-01-01&to=2024-04-01"
	_, sc := sessionDo(t, "GET", srv.URL+"/v1/scorecard?"+window+"&filter=region%3Dnorth", "")
	_, vals := sessionDo(t, "GET", srv.URL+"/v1/kpis/revenue/values?"+window+"&by=region", "")
	var north any
	for _, r := range vals["rows"].([]any) {
		if r.(map[string]any)["region"] == "north" {
			north = r.(map[string]any)["value"]
		}
	}
	found := false
	for _, r := range sc["rows"].([]any) {
		row := r.(map[string]any)
		if row["by"].(map[string]any)["region"] != "north" {
			t.Errorf("row %v without the filter", row)
		}
		if row["kpi"] == "revenue" {
			found = true
			if row["value"] != north || north == nil {
				t.Errorf("filtered revenue %v, revenue by region north %v", row["value"], north)
			}
		}
	}
	if !found {
		t.Fatalf("no revenue row: %v", sc)
	}
	for _, bad := range []string{"filter=region", "filter=%3Dnorth", "filter=region%3Dnorth&filter=region%3Dsouth", "filter=nosuch%3Dx"} {
		resp, m := sessionDo(t, "GET", srv.URL+"/v1/scorecard?"+window+"&"+bad, "")
		if resp.StatusCode != 400 || m["error"].(map[string]any)["details"].(map[string]any)["parameter"] != "filter" {
			t.Errorf("%s: %d %v", bad, resp.StatusCode, m)
		}
	}
}
