package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"custkpi/api"
	"custkpi/engine"
	"custkpi/engine/clv"
)

// backend is what the data commands ask for: the engine over the database
// file, or client over a running server. The signatures are the engine's,
// so one printer serves both and the outputs cannot drift apart.
type backend interface {
	Run(ctx context.Context, q engine.Query) (*engine.Result, error)
	Scorecard(ctx context.Context, from, to time.Time) (*engine.Scorecard, error)
	Import(ctx context.Context, req engine.ImportRequest) (*engine.ImportResult, error)
	ValidateRuleSet(ctx context.Context, doc []byte) (*engine.RuleSetCheck, error)
	SaveRuleSet(ctx context.Context, name string, doc []byte) (*engine.RuleSetInfo, error)
	EvaluateRuleSet(ctx context.Context, name string, version int, asOf time.Time, forceGo bool) (*engine.Evaluation, error)
	RuleSets(ctx context.Context) ([]engine.RuleSetInfo, error)
	FitCLV(ctx context.Context, req engine.CLVFitRequest) (*engine.CLVFit, error)
	CompareCLV(ctx context.Context, req engine.CLVCompareRequest) (*clv.Comparison, error)
	KPIs(ctx context.Context) ([]api.KPIInfo, error)
}

var (
	_ backend = local{}
	_ backend = (*client)(nil)
)

// local is the engine over the database file, with the catalog listing the
// API builds (api.DescribeKPI), so `custkpi kpis` prints the same either way.
type local struct{ *engine.Engine }

func (l local) KPIs(ctx context.Context) ([]api.KPIInfo, error) {
	var out []api.KPIInfo
	for _, k := range l.Catalog().List() {
		info, err := api.DescribeKPI(ctx, l.Engine, k)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// KPIs is GET /v1/kpis.
func (c *client) KPIs(ctx context.Context) ([]api.KPIInfo, error) {
	var list api.KPIList
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/kpis"}, &list); err != nil {
		return nil, err
	}
	return list.KPIs, nil
}

// client is a running `custkpi serve` seen through its API (API.md): each
// call is the engine call of the same name, answered from the JSON decoded
// into the engine's types. Writes run as jobs, polled into progress.
type client struct {
	base     string // scheme://host[:port], no trailing slash
	key      string // sent as a bearer token when not empty
	http     *http.Client
	progress engine.Progress
	poll     time.Duration
}

// newClient checks the server URL; a bare host:port means http.
func newClient(server, key string, progress engine.Progress) (*client, error) {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, usage(fmt.Errorf("--server %q: want a URL such as http://127.0.0.1:8080", server))
	}
	if progress == nil {
		progress = (*progressDisplay)(nil)
	}
	return &client{base: strings.TrimRight(u.String(), "/"), key: key, http: &http.Client{}, progress: progress, poll: 200 * time.Millisecond}, nil
}

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         io.Reader
	contentType  string
	async        bool // Prefer: respond-async: a write answers 202 with a job
}

// do sends r and returns the response of a 2xx answer; any other answer
// becomes the API's error.
func (c *client) do(ctx context.Context, r request) (*http.Response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, r.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.async {
		req.Header.Set("Prefer", "respond-async")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("custkpi server at %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, readAPIError(r, resp)
	}
	return resp, nil
}

// call sends r and decodes a JSON answer into out; a 202 job is followed
// to its end first.
func (c *client) call(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		return c.followJob(ctx, resp, out)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", r.method, r.path, err)
	}
	return nil
}

// apiError is the API's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Raw values keep their order: details re-encoded from a map would sort
	// the keys of nested objects, and the CLI prints them.
	Details map[string]json.RawMessage `json:"details"`
}

// engineError is the API error as the engine's caller-fault error, which
// describeError prints as for a local command.
func (e *apiError) engineError() error {
	var details map[string]any
	if len(e.Details) > 0 {
		details = make(map[string]any, len(e.Details))
		for k, v := range e.Details {
			details[k] = v
		}
	}
	return &engine.Error{Code: engine.Code(e.Code), Message: e.Message, Details: details}
}

func readAPIError(r request, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		Error *apiError `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != nil && body.Error.Code != "" {
		return body.Error.engineError()
	}
	// Not the API's shape: a proxy, or not a custkpi server at all.
	return fmt.Errorf("%s %s: %s: %s", r.method, r.path, resp.Status, strings.TrimSpace(string(b)))
}

// remoteJob is GET /v1/jobs/{id}, the result kept raw for the caller's type.
type remoteJob struct {
	ID     string          `json:"id"`
	State  string          `json:"state"`
	Phase  string          `json:"phase"`
	Done   int64           `json:"done"`
	Total  int64           `json:"total"`
	Unit   string          `json:"unit"`
	Result json.RawMessage `json:"result"`
	Error  *apiError       `json:"error"`
}

// followJob polls the job a 202 answered until it ends, replaying its
// progress, and decodes its result into out. Interrupting the command
// cancels the job on the server, as it would cancel a local write.
func (c *client) followJob(ctx context.Context, resp *http.Response, out any) error {
	var accepted struct {
		Job remoteJob `json:"job"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&accepted); err != nil {
		return fmt.Errorf("reading the job: %w", err)
	}
	job := accepted.Job
	feed := jobFeed{p: c.progress}
	for {
		feed.update(job)
		switch job.State {
		case "succeeded":
			if err := json.Unmarshal(job.Result, out); err != nil {
				return fmt.Errorf("job %s: reading the result: %w", job.ID, err)
			}
			return nil
		case "failed":
			if job.Error == nil {
				return fmt.Errorf("job %s failed", job.ID)
			}
			return job.Error.engineError()
		case "cancelled":
			return fmt.Errorf("job %s was cancelled on the server", job.ID)
		}
		select {
		case <-ctx.Done():
			c.cancelJob(job.ID)
			return ctx.Err()
		case <-time.After(c.poll):
		}
		next, err := c.job(ctx, job.ID)
		if err != nil {
			if ctx.Err() != nil {
				c.cancelJob(job.ID)
			}
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
		job = next
	}
}

func (c *client) job(ctx context.Context, id string) (remoteJob, error) {
	var j remoteJob
	err := c.call(ctx, request{method: http.MethodGet, path: "/v1/jobs/" + url.PathEscape(id)}, &j)
	return j, err
}

// cancelJob asks the server to stop a job the user gave up on; the
// command's context is done, so it gets a short one of its own.
func (c *client) cancelJob(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if resp, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/jobs/" + url.PathEscape(id)}); err == nil {
		resp.Body.Close()
	}
}

// jobFeed turns the job's snapshots into Progress calls. A poll can miss
// a short phase; the display shows the ones it saw.
type jobFeed struct {
	p           engine.Progress
	phase, unit string
	done, total int64
}

func (f *jobFeed) update(j remoteJob) {
	if j.Phase == "" {
		return // queued
	}
	// A phase resets the counts, so falling counts mean a new phase even
	// under the same name.
	if j.Phase != f.phase || j.Done < f.done {
		f.p.Phase(j.Phase)
		f.phase, f.unit, f.done, f.total = j.Phase, "", 0, 0
	}
	if j.Total != f.total || j.Unit != f.unit {
		f.p.Total(j.Total, j.Unit)
		f.total, f.unit = j.Total, j.Unit
	}
	if j.Done > f.done {
		f.p.Add(j.Done - f.done)
		f.done = j.Done
	}
}

// Run is GET /v1/kpis/{name}/values.
func (c *client) Run(ctx context.Context, q engine.Query) (*engine.Result, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: kpiPath(q), query: kpiQuery(q, "")})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	res, err := decodeResult(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", kpiPath(q), err)
	}
	if len(res.Rows) == 0 {
		// JSON rows name the columns; with none, the CSV header does.
		if res.Columns, err = c.kpiColumns(ctx, q); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// kpiCSV copies GET /v1/kpis/{name}/values?format=csv: the server writes
// the CSV with the same encoder as the CLI, from values typed as the
// engine scanned them, which JSON does not keep (1e+06 and 1000000 are the
// same JSON number but not the same CSV cell).
func (c *client) kpiCSV(ctx context.Context, q engine.Query, w io.Writer) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: kpiPath(q), query: kpiQuery(q, "csv")})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

func (c *client) kpiColumns(ctx context.Context, q engine.Query) ([]string, error) {
	var b bytes.Buffer
	if err := c.kpiCSV(ctx, q, &b); err != nil {
		return nil, err
	}
	header, _, _ := strings.Cut(b.String(), "\n")
	return strings.Split(strings.TrimSpace(header), ","), nil
}

func kpiPath(q engine.Query) string { return "/v1/kpis/" + url.PathEscape(q.KPI) + "/values" }

// kpiQuery is q as the query parameters of the values endpoint.
func kpiQuery(q engine.Query, format string) url.Values {
	v := url.Values{}
	setWindow(v, q.From, q.To)
	if q.Grain != "" {
		v.Set("grain", string(q.Grain))
	}
	if len(q.By) > 0 {
		v.Set("by", strings.Join(q.By, ","))
	}
	if q.Version > 0 {
		v.Set("version", strconv.Itoa(q.Version))
	}
	if q.Where != "" {
		v.Set("where", q.Where)
	}
	for name, value := range q.Params {
		v.Set(name, value)
	}
	if format != "" {
		v.Set("format", format)
	}
	return v
}

func setWindow(v url.Values, from, to time.Time) {
	if !from.IsZero() {
		v.Set("from", from.Format(time.DateOnly))
	}
	if !to.IsZero() {
		v.Set("to", to.Format(time.DateOnly))
	}
}

// decodeResult reads a KPI answer: the header into the engine's Result, the
// rows, objects whose keys keep the column order, into its columns and rows.
func decodeResult(r io.Reader) (*engine.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var res engine.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	var body struct {
		Rows []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, err
	}
	res.Rows = make([][]any, 0, len(body.Rows))
	for _, raw := range body.Rows {
		cols, row, err := decodeRow(raw)
		if err != nil {
			return nil, err
		}
		if res.Columns == nil {
			res.Columns = cols
		}
		res.Rows = append(res.Rows, row)
	}
	return &res, nil
}

// decodeRow reads one row object in key order.
func decodeRow(raw json.RawMessage) (cols []string, row []any, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		cols = append(cols, tok.(string))
		row = append(row, cellValue(v))
	}
	return cols, row, nil
}

// cellValue types a JSON number as the engine would have: an integer
// literal as int64, anything else as float64. Both print alike in tables
// and JSON, which are what this serves (CSV is fetched as CSV).
func cellValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	s := n.String()
	if !strings.ContainsAny(s, ".eE") && s != "-0" {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// Scorecard is GET /v1/scorecard.
func (c *client) Scorecard(ctx context.Context, from, to time.Time) (*engine.Scorecard, error) {
	v := url.Values{}
	setWindow(v, from, to)
	var sc engine.Scorecard
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/scorecard", query: v}, &sc); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Import uploads the file (POST /v1/datasets/{kind}, multipart) and follows
// the import job.
func (c *client) Import(ctx context.Context, req engine.ImportRequest) (*engine.ImportResult, error) {
	f, err := os.Open(req.Path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", req.Kind, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", req.Kind, err)
	}
	c.progress.Phase("uploading " + filepath.Base(req.Path))
	c.progress.Total(st.Size(), "bytes")
	body, contentType := multipartUpload(f, req, c.progress)
	var res engine.ImportResult
	err = c.call(ctx, request{method: http.MethodPost, path: "/v1/datasets/" + url.PathEscape(req.Kind),
		body: body, contentType: contentType, async: true}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// multipartUpload streams the form (the file in field `file`, the options
// as fields) as it is sent, so a large file is never held in memory.
func multipartUpload(f *os.File, req engine.ImportRequest, progress engine.Progress) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeUpload(mw, f, req, progress))
	}()
	return pr, mw.FormDataContentType()
}

func writeUpload(mw *multipart.Writer, f *os.File, req engine.ImportRequest, progress engine.Progress) error {
	fields := map[string]string{"mode": req.Mode, "orphans": req.Orphans, "format": req.Format, "mapping": joinMapping(req.Mapping)}
	if req.AllowEmpty {
		fields["allow_empty"] = "true"
	}
	for _, name := range []string{"mapping", "mode", "orphans", "format", "allow_empty"} {
		if fields[name] == "" {
			continue
		}
		if err := mw.WriteField(name, fields[name]); err != nil {
			return err
		}
	}
	part, err := mw.CreateFormFile("file", filepath.Base(req.Path))
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, &countingReader{r: f, p: progress}); err != nil {
		return fmt.Errorf("upload %s: %w", req.Path, err)
	}
	return mw.Close()
}

// joinMapping is the form's mapping: canonical=source pairs, comma-separated.
func joinMapping(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// countingReader reports the bytes read as upload progress.
type countingReader struct {
	r io.Reader
	p engine.Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.Add(int64(n))
	return n, err
}

// ValidateRuleSet is POST /v1/rulesets/validate.
func (c *client) ValidateRuleSet(ctx context.Context, doc []byte) (*engine.RuleSetCheck, error) {
	var v engine.RuleSetCheck
	err := c.call(ctx, request{method: http.MethodPost, path: "/v1/rulesets/validate", body: bytes.NewReader(doc), contentType: "application/yaml"}, &v)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// SaveRuleSet is PUT /v1/rulesets/{name}. The path needs the name the
// document gives, which the server's validation reads, with the same
// errors a local save would print.
func (c *client) SaveRuleSet(ctx context.Context, name string, doc []byte) (*engine.RuleSetInfo, error) {
	if name == "" {
		v, err := c.ValidateRuleSet(ctx, doc)
		if err != nil {
			return nil, err
		}
		if name = v.Name; name == "" {
			return nil, errors.New("the rule set document has no name")
		}
	}
	var info engine.RuleSetInfo
	err := c.call(ctx, request{method: http.MethodPut, path: "/v1/rulesets/" + url.PathEscape(name), body: bytes.NewReader(doc), contentType: "application/yaml"}, &info)
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// EvaluateRuleSet is POST /v1/rulesets/{name}/evaluate, as a job.
func (c *client) EvaluateRuleSet(ctx context.Context, name string, version int, asOf time.Time, forceGo bool) (*engine.Evaluation, error) {
	v := url.Values{}
	if version > 0 {
		v.Set("version", strconv.Itoa(version))
	}
	if !asOf.IsZero() {
		v.Set("as_of", asOf.Format(time.DateOnly))
	}
	if forceGo {
		v.Set("path", "go")
	}
	var ev engine.Evaluation
	err := c.call(ctx, request{method: http.MethodPost, path: "/v1/rulesets/" + url.PathEscape(name) + "/evaluate", query: v, async: true}, &ev)
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// RuleSets is GET /v1/rulesets.
func (c *client) RuleSets(ctx context.Context) ([]engine.RuleSetInfo, error) {
	var list struct {
		RuleSets []engine.RuleSetInfo `json:"rulesets"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/rulesets"}, &list); err != nil {
		return nil, err
	}
	return list.RuleSets, nil
}

// clvFitBody is the body of POST /v1/models/clv/fit (api.CLVFitBody; the
// CLI imports api only to serve).
type clvFitBody struct {
	CalibrationEnd  string  `json:"calibration_end"`
	HoldoutEnd      string  `json:"holdout_end,omitempty"`
	Unit            string  `json:"unit,omitempty"`
	Margin          float64 `json:"margin,omitempty"`
	MonthlyDiscount float64 `json:"monthly_discount,omitempty"`
	HorizonMonths   int     `json:"horizon_months,omitempty"`
	Model           string  `json:"model,omitempty"`
	PeriodDays      int     `json:"period_days,omitempty"`
	Periods         int     `json:"periods,omitempty"`
}

// FitCLV is POST /v1/models/clv/fit, as a job.
func (c *client) FitCLV(ctx context.Context, req engine.CLVFitRequest) (*engine.CLVFit, error) {
	body := clvFitBody{CalibrationEnd: req.CalibrationEnd.Format(time.DateOnly), Unit: req.Unit, Margin: req.Margin,
		MonthlyDiscount: req.MonthlyDiscount, HorizonMonths: req.HorizonMonths, Model: req.Model, PeriodDays: req.PeriodDays, Periods: req.Periods}
	if req.HoldoutEnd != nil {
		body.HoldoutEnd = req.HoldoutEnd.Format(time.DateOnly)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var fit engine.CLVFit
	err = c.call(ctx, request{method: http.MethodPost, path: "/v1/models/clv/fit", body: bytes.NewReader(b), contentType: "application/json", async: true}, &fit)
	if err != nil {
		return nil, err
	}
	return &fit, nil
}

// CompareCLV is POST /v1/models/clv/compare, as a job.
func (c *client) CompareCLV(ctx context.Context, req engine.CLVCompareRequest) (*clv.Comparison, error) {
	body := map[string]any{"calibration_end": req.CalibrationEnd.Format(time.DateOnly), "unit": req.Unit}
	if req.HoldoutEnd != nil {
		body["holdout_end"] = req.HoldoutEnd.Format(time.DateOnly)
	}
	if len(req.Models) > 0 {
		body["models"] = req.Models
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var out clv.Comparison
	err = c.call(ctx, request{method: http.MethodPost, path: "/v1/models/clv/compare", body: bytes.NewReader(b), contentType: "application/json", async: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
