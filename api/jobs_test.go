package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"custkpi/jobs"
)

// postAsync posts with Prefer: respond-async and answers the job and its
// Location.
func postAsync(t *testing.T, url, body string) (jobs.Job, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "respond-async")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out JobResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s async: %d %v", url, resp.StatusCode, err)
	}
	return out.Job, resp.Header.Get("Location")
}

// waitJob polls a job until it has finished.
func waitJob(t *testing.T, base, location string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		status, _, b := get(t, base+location)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", location, status, b)
		}
		job := decode(t, b)
		if job["finished_at"] != nil {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not finished: %v", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAsyncJobs(t *testing.T) {
	srv, eng := newTestServer(t)
	dir := t.TempDir()

	// A good import as a job: 202 at once, then succeeded with the result.
	good := filepath.Join(dir, "tickets.csv")
	os.WriteFile(good, []byte("ticket_id,customer_id,opened_at,category\nt1,c1,2024-01-03 10:00:00,complaint\nt2,c2,2024-01-04 10:00:00,question\n"), 0o644)
	gen := eng.Generation()
	job, loc := postAsync(t, srv.URL+"/v1/datasets/tickets", `{"path": "`+good+`"}`)
	if job.Kind != "import" || (job.State != jobs.Queued && job.State != jobs.Running) || loc != "/v1/jobs/"+job.ID {
		t.Fatalf("accepted job %+v at %q", job, loc)
	}
	done := waitJob(t, srv.URL, loc)
	res, _ := done["result"].(map[string]any)
	if done["state"] != "succeeded" || res["rows"] != 2.0 || done["phase"] != "indexing" || done["started_at"] == nil {
		t.Fatalf("finished job %v", done)
	}
	if eng.Generation() != gen+1 {
		t.Errorf("generation %d -> %d", gen, eng.Generation())
	}

	// A bad one fails with the error an immediate answer would carry, and
	// changes nothing.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("ticket_id,customer_id,opened_at\nt1,c1,not a time\n"), 0o644)
	_, loc = postAsync(t, srv.URL+"/v1/datasets/tickets?async=true", `{"path": "`+bad+`"}`)
	done = waitJob(t, srv.URL, loc)
	jerr, _ := done["error"].(map[string]any)
	if done["state"] != "failed" || jerr["code"] != "invalid_dataset" || !strings.Contains(jerr["message"].(string), "opened_at") {
		t.Fatalf("failed job %v", done)
	}
	if eng.Generation() != gen+1 {
		t.Errorf("a failed job wrote: generation %d", eng.Generation())
	}

	// An evaluation as a job; the list has all three, newest first.
	_, loc = postAsync(t, srv.URL+"/v1/rulesets/value_tiers/evaluate", "")
	if done = waitJob(t, srv.URL, loc); done["state"] != "succeeded" {
		t.Fatalf("evaluation job %v", done)
	}
	status, _, b := get(t, srv.URL+"/v1/jobs")
	var list JobList
	if err := json.Unmarshal(b, &list); status != 200 || err != nil || len(list.Jobs) != 3 || list.Jobs[0].Kind != "evaluation" {
		t.Fatalf("jobs list: %d %v %+v", status, err, list)
	}
	if status, _, _ := get(t, srv.URL+"/v1/jobs/nope"); status != 404 {
		t.Errorf("unknown job: %d", status)
	}
}
