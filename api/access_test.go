package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// call sends a request with an optional key (and a JSON body, if any) and
// answers status and body.
func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	var header []string
	if key != "" {
		header = []string{"Authorization", "Bearer " + key}
	}
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	resp, m := send(t, method, url, ct, body, header...)
	return resp.StatusCode, m
}

func errCode(m map[string]any) any {
	e, _ := m["error"].(map[string]any)
	return e["code"]
}

// Protected mode: with no key, loopback clients are admin and anyone else
// is refused, whatever headers claim.
func TestProtectedModeTrustsTheConnectionOnly(t *testing.T) {
	_, eng := newTestServer(t)
	h := New(eng, Options{}).Handler()
	for _, c := range []struct {
		remote, xff string
		want        int
	}{
		{"127.0.0.1:5000", "", 200},
		{"[::1]:5000", "", 200},
		{"10.1.2.3:5000", "", 401},
		{"10.1.2.3:5000", "127.0.0.1", 401},
		{"192.168.1.9:5000", "::1", 401},
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/kpis", nil)
		req.RemoteAddr = c.remote
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
			req.Header.Set("X-Real-IP", c.xff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s (X-Forwarded-For %q): %d, want %d: %s", c.remote, c.xff, w.Code, c.want, w.Body)
		}
		if c.want == 401 && !strings.Contains(w.Body.String(), "keys create") {
			t.Errorf("the refusal does not say how to create a key: %s", w.Body)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/kpis", nil)
	req.RemoteAddr = "10.1.2.3:5000"
	w := httptest.NewRecorder()
	New(eng, Options{Insecure: true}).Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("--insecure: %d", w.Code)
	}
}

func TestKeysRolesScopesAndAudit(t *testing.T) {
	srv, _ := newTestServer(t)
	u := srv.URL
	newKey := func(body string) string {
		t.Helper()
		status, m := call(t, "POST", u+"/v1/keys", adminKey, body)
		if status != 201 || m["key"] == nil {
			t.Fatalf("create key %s: %d %v", body, status, m)
		}
		return m["key"].(string)
	}
	adminKey = ""
	adminKey = newKey(`{"name": "ops", "role": "admin"}`)
	reader := newKey(`{"name": "bi", "role": "reader"}`)
	north := newKey(`{"name": "north", "role": "reader", "scope": {"region": ["north"]}}`)

	if status, m := call(t, "GET", u+"/v1/kpis", "", ""); status != 401 || errCode(m) != "unauthenticated" {
		t.Errorf("no key once keys exist: %d %v", status, m)
	}
	if status, _ := call(t, "GET", u+"/v1/kpis", reader+"x", ""); status != 401 {
		t.Errorf("a wrong key: %d", status)
	}
	if status, _ := call(t, "GET", u+"/v1/health", "", ""); status != 200 {
		t.Errorf("health without a key: %d", status)
	}
	if status, _ := call(t, "GET", u+"/v1/scorecard", reader, ""); status != 200 {
		t.Errorf("reader reads: %d", status)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/v1/targets/revenue", `{"target": 1}`},
		{"POST", "/v1/rulesets/value_tiers/evaluate", ""},
		{"POST", "/v1/datasets/orders", `{"path": "x"}`},
		{"GET", "/v1/keys", ""},
		{"GET", "/v1/audit", ""},
	} {
		if status, m := call(t, c.method, u+c.path, reader, c.body); status != 403 || errCode(m) != "forbidden" {
			t.Errorf("reader %s %s: %d %v", c.method, c.path, status, m)
		}
	}
	// The scope: north's revenue is the north row of revenue by region.
	_, all := call(t, "GET", u+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&by=region", reader, "")
	var want any
	for _, r := range all["rows"].([]any) {
		if r.(map[string]any)["region"] == "north" {
			want = r.(map[string]any)["value"]
		}
	}
	_, mine := call(t, "GET", u+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01", north, "")
	if got := mine["rows"].([]any)[0].(map[string]any)["value"]; got != want || want == nil {
		t.Errorf("north-scoped revenue %v, north row %v", got, want)
	}
	_, custs := call(t, "GET", u+"/v1/customers?limit=100", north, "")
	for _, r := range custs["rows"].([]any) {
		if r.(map[string]any)["region"] != "north" {
			t.Errorf("a north key sees %v", r)
		}
	}
	if status, _ := call(t, "GET", u+"/v1/customers/c3", north, ""); status != 404 {
		t.Errorf("a customer outside the scope: %d", status)
	}

	// Revocation, and the audit log of it all.
	status, keys := call(t, "GET", u+"/v1/keys", adminKey, "")
	if status != 200 || len(keys["keys"].([]any)) != 3 || strings.Contains(toJSON(keys), reader) {
		t.Fatalf("keys: %d %v", status, keys)
	}
	id := strings.Split(reader, "_")[1]
	if status, _ := call(t, "DELETE", u+"/v1/keys/"+id, adminKey, ""); status != 204 {
		t.Errorf("revoke: %d", status)
	}
	if status, _ := call(t, "GET", u+"/v1/kpis", reader, ""); status != 401 {
		t.Errorf("a revoked key: %d", status)
	}
	_, log := call(t, "GET", u+"/v1/audit", adminKey, "")
	text := toJSON(log)
	for _, want := range []string{`"action":"POST /v1/keys"`, `"action":"DELETE /v1/keys/:id"`, `"key_name":"ops"`, `"outcome":"ok"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit log lacks %s: %s", want, text)
		}
	}
}

var adminKey string

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Imports by server path read only regular files inside the import
// folders; nothing about other paths is told, and no content is echoed.
func TestImportByPathStaysInItsFolder(t *testing.T) {
	_, eng := newTestServer(t)
	dir := t.TempDir()
	srv := httptest.NewServer(New(eng, Options{ImportDirs: []string{dir}, MaxUploadBytes: 1000}).Handler())
	defer srv.Close()
	good := filepath.Join(dir, "tickets.csv")
	os.WriteFile(good, []byte("ticket_id,customer_id,opened_at\nt1,c1,2024-01-03 10:00:00\n"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.csv"))
	os.Mkdir(filepath.Join(dir, "sub.csv"), 0o755)
	syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644)
	for _, c := range []struct {
		path string
		want int
	}{
		{good, 201},
		{"/etc/passwd", 403},
		{dir + "/../../etc/hostname", 403},
		{filepath.Join(dir, "passwd.csv"), 403},
		{filepath.Join(dir, "sub.csv"), 400},
		{filepath.Join(dir, "fifo.csv"), 400},
		{filepath.Join(dir, "missing.csv"), 400},
	} {
		status, m := call(t, "POST", srv.URL+"/v1/datasets/tickets", "", `{"path": "`+c.path+`"}`)
		if status != c.want {
			t.Errorf("%s: %d, want %d: %v", c.path, status, c.want, m)
		}
		if strings.Contains(toJSON(m), "root:") {
			t.Errorf("%s: the answer echoes the file: %v", c.path, m)
		}
	}
	// Bodies: an upload over the limit, a JSON body over 1 MiB.
	var body bytes.Buffer
	body.WriteString("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n\r\n")
	body.WriteString(strings.Repeat("x", 5000) + "\r\n--b--\r\n")
	resp, err := http.Post(srv.URL+"/v1/datasets/tickets", "multipart/form-data; boundary=b", &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("upload over the limit: %d", resp.StatusCode)
	}
	big := `{"path": "` + strings.Repeat("a", 2<<20) + `"}`
	if status, m := call(t, "POST", srv.URL+"/v1/datasets/tickets", "", big); status != 413 || errCode(m) != "too_large" {
		t.Errorf("a 2 MiB JSON body: %d %v", status, m)
	}
}

// A job carries its request's principal: a scoped key cannot run a write
// that reads every customer by asking for it asynchronously, and the job's
// end is in the audit log.
func TestJobsCarryThePrincipal(t *testing.T) {
	srv, _ := newTestServer(t)
	u := srv.URL
	_, m := call(t, "POST", u+"/v1/keys", "", `{"name": "root", "role": "admin"}`)
	admin := m["key"].(string)
	_, m = call(t, "POST", u+"/v1/keys", admin, `{"name": "north-analyst", "role": "analyst", "scope": {"region": ["north"]}}`)
	north := m["key"].(string)
	status, m := call(t, "POST", u+"/v1/rulesets/value_tiers/evaluate?async=true", north, "")
	if status != 202 {
		t.Fatalf("async evaluate: %d %v", status, m)
	}
	loc := "/v1/jobs/" + m["job"].(map[string]any)["id"].(string)
	var job map[string]any
	for i := 0; i < 500; i++ {
		_, job = call(t, "GET", u+loc, north, "")
		if job["finished_at"] != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if job["state"] != "failed" || job["error"].(map[string]any)["code"] != "forbidden" {
		t.Errorf("a scoped key's async evaluation: %v", job)
	}
	_, log := call(t, "GET", u+"/v1/audit", admin, "")
	if text := toJSON(log); !strings.Contains(text, `"action":"POST /v1/rulesets/:name/evaluate (job)"`) || !strings.Contains(text, `"outcome":"failed"`) {
		t.Errorf("the job's end is not audited: %s", text)
	}
}
