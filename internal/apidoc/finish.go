package apidoc

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Media types of the answers that are not JSON, and the schema of each
// body: text for CSV and NDJSON (a JSON object per line), bytes for the
// Arrow IPC stream and Parquet.
var bodySchemas = map[string]*openapi3.Schema{
	"text/csv":                            {Type: &openapi3.Types{"string"}},
	"application/x-ndjson":                {Type: &openapi3.Types{"string"}},
	"application/vnd.apache.arrow.stream": {Type: &openapi3.Types{"string"}, Format: "binary"},
	"application/vnd.apache.parquet":      {Type: &openapi3.Types{"string"}, Format: "binary"},
}

// finish adds to the converted document what Swagger 2.0 cannot express.
func finish(doc *openapi3.T) error {
	doc.Servers = openapi3.Servers{{URL: "/v1", Description: "this server"}}
	bearerAuth(doc)
	if err := kpiRows(doc); err != nil {
		return err
	}
	codes, err := errorCodes(doc)
	if err != nil {
		return err
	}
	doubles(doc)
	ids := map[string]string{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				return fmt.Errorf("%s has no operationId: add @ID to its annotations", where)
			}
			if other, dup := ids[op.OperationID]; dup {
				return fmt.Errorf("operationId %s is used by %s and %s", op.OperationID, other, where)
			}
			ids[op.OperationID] = where
			if op.Security == nil {
				// Say that it needs no key, rather than leave it unsaid.
				op.Security = &openapi3.SecurityRequirements{}
			}
			addMiddlewareAnswers(op)
			if err := recordsShape(doc, op); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			textBodies(op)
			if err := finishResponses(op, codes); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	return nil
}

// doubles gives every number without a format the format double: the
// server's numbers are Go float64 (swag leaves the format out, and a client
// generator then picks float32, which loses digits). It also makes an
// cells types the values of the maps marked x-cells.
func doubles(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		v := r.Value
		seen[v] = true
		if v.Type.Is("number") && v.Format == "" {
			v.Format = "double"
		}
		for _, p := range v.Properties {
			cells(p)
			walk(p)
		}
		walk(v.Items)
		walk(v.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{v.OneOf, v.AnyOf, v.AllOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				walk(p.Value.Schema)
			}
		}
	}
}

// cells: a property tagged extensions:"x-cells" is a row of a table (or a
// list of rows): a map whose values are the row's cells, each text, a
// number, a boolean or null. Go's map[string]any says none of that.
func cells(p *openapi3.SchemaRef) {
	if p.Value == nil || p.Value.Extensions["x-cells"] == nil {
		return
	}
	delete(p.Value.Extensions, "x-cells")
	m := p.Value
	if m.Items != nil {
		m = m.Items.Value
	}
	m.AdditionalProperties = openapi3.AdditionalProperties{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
		Description: "a cell: text (dates and times as ISO 8601), a number, a boolean, or null",
		AnyOf: openapi3.SchemaRefs{
			{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Nullable: true}},
			{Value: &openapi3.Schema{Type: &openapi3.Types{"number"}}},
			{Value: &openapi3.Schema{Type: &openapi3.Types{"boolean"}}},
		},
	}}}
}

// bearerAuth: Swagger 2.0 has no bearer scheme, so the annotations declare
// BearerAuth as an apiKey in Authorization; OpenAPI 3 says what it is.
func bearerAuth(doc *openapi3.T) {
	if s := doc.Components.SecuritySchemes["BearerAuth"]; s != nil && s.Value != nil {
		s.Value = &openapi3.SecurityScheme{Type: "http", Scheme: "bearer",
			Description: "an API key (custkpi keys create), sent as Authorization: Bearer KEY"}
	}
}

// kpiRows types the rows of a KPI answer: value, numerator, denominator and
// period are declared on the KPIRow struct; every other key is a dimension
// value (text, null when the customer has none) or, for a matrix KPI such
// as cohort_retention, a group or extra column (text or number).
func kpiRows(doc *openapi3.T) error {
	row := doc.Components.Schemas["KPIRow"]
	if row == nil || row.Value == nil {
		return fmt.Errorf("no KPIRow schema: the annotations of GET /kpis/{name}/values should name it")
	}
	row.Value.AdditionalProperties = openapi3.AdditionalProperties{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
		Description: "a dimension value (by=), or a matrix KPI's group or extra column",
		OneOf: openapi3.SchemaRefs{
			{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Nullable: true}},
			{Value: &openapi3.Schema{Type: &openapi3.Types{"number"}}},
		},
	}}}
	return nil
}

// recordsShape: an operation with a shape parameter answers JSON either as
// its object (shape=envelope) or as the bare array of that object's rows
// (shape=records), so its 200 JSON body is one of the two.
func recordsShape(doc *openapi3.T, op *openapi3.Operation) error {
	if op.Parameters.GetByInAndName("query", "shape") == nil {
		return nil
	}
	ok := op.Responses.Value("200")
	if ok == nil || ok.Value.Content.Get("application/json") == nil {
		return fmt.Errorf("shape=records needs a 200 JSON answer")
	}
	media := ok.Value.Content.Get("application/json")
	ref := media.Schema.Ref
	envelope := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	if envelope == nil || envelope.Value.Properties["rows"] == nil {
		return fmt.Errorf("shape=records needs a 200 JSON answer with rows, not %q", ref)
	}
	rows := envelope.Value.Properties["rows"]
	media.Schema = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Description: "shape=envelope (default): the object; shape=records: its rows alone",
		OneOf:       openapi3.SchemaRefs{openapi3.NewSchemaRef(ref, nil), rows},
	}}
	return nil
}

// errorCodes are the codes the ErrorDetail schema lists (its enums tag).
func errorCodes(doc *openapi3.T) ([]string, error) {
	d := doc.Components.Schemas["ErrorDetail"]
	if d == nil || d.Value == nil || d.Value.Properties["code"] == nil {
		return nil, fmt.Errorf("no ErrorDetail.code schema")
	}
	var codes []string
	for _, c := range d.Value.Properties["code"].Value.Enum {
		codes = append(codes, fmt.Sprint(c))
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("ErrorDetail.code has no enum: list the codes in its enums tag")
	}
	for _, c := range codes {
		if _, ok := exampleMessages[c]; !ok {
			return nil, fmt.Errorf("error code %s has no example message in apidoc.exampleMessages", c)
		}
	}
	return codes, nil
}

// middlewareAnswers are the answers that wrap every route rather than any
// one handler: 421 from the host guard (a Host header the server does not
// answer for), 500 from the panic and encoding guards, 503 not_ready
// from the binary while the database opens, and 503 shutting_down during
// the graceful shutdown.
var middlewareAnswers = []struct {
	status int
	code   string
	desc   string
}{
	{421, "host_not_allowed", "host_not_allowed: the Host header is not one this server answers for (--allowed-host)"},
	{500, "internal", "internal: a bug; the server log has the cause"},
	{503, "not_ready", "not_ready: the database is opening (or recovering); try again shortly (Retry-After)"},
	{503, "shutting_down", "shutting_down: the server is stopping (SIGTERM); a request it could not finish within --shutdown-grace is cancelled; retry on another instance (Retry-After)"},
}

// addMiddlewareAnswers adds the middleware answers to an operation; where
// the operation declares the status already, the code joins its list.
func addMiddlewareAnswers(op *openapi3.Operation) {
	for _, a := range middlewareAnswers {
		key := strconv.Itoa(a.status)
		if r := op.Responses.Value(key); r != nil && r.Value != nil && r.Value.Description != nil {
			codes, rest, _ := strings.Cut(*r.Value.Description, ":")
			d := codes + ", " + a.code + ":" + rest
			r.Value.Description = &d
			continue
		}
		d := a.desc
		op.Responses.Set(key, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &d,
			Content: openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/ErrorBody", nil))}})
	}
}

// textBodies: a request body sent as text (a YAML rule set) is a string,
// whatever the JSON form's schema is.
func textBodies(op *openapi3.Operation) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return
	}
	// The conversion's notes of the 2.0 parameters a body came from.
	delete(op.RequestBody.Value.Extensions, "x-originalParamName")
	for mt, media := range op.RequestBody.Value.Content {
		if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "yaml") {
			media.Schema = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}}}
		}
		if media.Schema != nil && media.Schema.Ref == "" && media.Schema.Value != nil {
			for _, p := range media.Schema.Value.Properties {
				delete(p.Value.Extensions, "x-formData-name")
			}
		}
	}
}

// finishResponses gives each answer its media types, examples and headers.
func finishResponses(op *openapi3.Operation, codes []string) error {
	for key, ref := range op.Responses.Map() {
		resp := ref.Value
		status, err := strconv.Atoi(key)
		if err != nil {
			return fmt.Errorf("response %q: a status code is expected", key)
		}
		if resp.Headers == nil {
			resp.Headers = openapi3.Headers{}
		}
		resp.Headers["X-Request-ID"] = header("the request's id: the client's X-Request-ID, or one generated; the server log names it")
		if status >= 400 {
			if err := errorResponse(resp, status, codes); err != nil {
				return fmt.Errorf("%d: %w", status, err)
			}
			continue
		}
		if status == 204 || status == 304 {
			resp.Content = nil
			continue
		}
		for mt, media := range resp.Content {
			if s, ok := bodySchemas[mt]; ok {
				media.Schema = &openapi3.SchemaRef{Value: s}
				media.Example, media.Examples = nil, nil
			}
		}
	}
	return nil
}

// codeList is the start of a @Failure description: the error codes it
// answers, comma-separated, optionally followed by ": explanation".
var codeList = regexp.MustCompile(`^([a-z_]+(?:, *[a-z_]+)*)(?::|$)`)

// errorResponse keeps JSON only (an error is never CSV or Parquet), and
// gives one example per code the annotation lists.
func errorResponse(resp *openapi3.Response, status int, codes []string) error {
	desc := ""
	if resp.Description != nil {
		desc = *resp.Description
	}
	m := codeList.FindStringSubmatch(desc)
	if m == nil {
		return fmt.Errorf("the @Failure description %q must start with its error codes (\"unknown_kpi, unknown_version: ...\")", desc)
	}
	for mt, m := range resp.Content {
		if m.Schema == nil || m.Schema.Ref != "#/components/schemas/ErrorBody" {
			return fmt.Errorf("%s body: declare {object} ErrorBody", mt)
		}
	}
	// Every error is the JSON ErrorBody, whatever the success answers are.
	media := openapi3.NewMediaType().WithSchemaRef(openapi3.NewSchemaRef("#/components/schemas/ErrorBody", nil))
	resp.Content = openapi3.Content{"application/json": media}
	media.Examples = openapi3.Examples{}
	listed := strings.Split(m[1], ",")
	sort.Strings(listed)
	for _, c := range listed {
		c = strings.TrimSpace(c)
		if !slices.Contains(codes, c) {
			return fmt.Errorf("error code %s is not in ErrorDetail.code's enum", c)
		}
		body := map[string]any{"code": c, "message": exampleMessages[c]}
		if d := exampleDetails[c]; d != nil {
			body["details"] = d
		}
		media.Examples[c] = &openapi3.ExampleRef{Value: &openapi3.Example{Summary: c, Value: map[string]any{"error": body}}}
	}
	if status == 503 {
		resp.Headers["Retry-After"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "seconds to wait before trying again",
			Schema:      &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"integer"}}},
		}}}
	}
	return nil
}

func header(desc string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: desc, Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}}},
	}}}
}

// exampleMessages is a message of each error code, as the server words
// it, for the examples of the document.
var exampleMessages = map[string]string{
	"invalid_parameter":      `invalid parameter "from": "2024-13-01" is not a date (YYYY-MM-DD)`,
	"invalid_body":           `the body must be JSON {"target", "direction"?, "warn_within"?, "by"?, "from"?, "to"?}: unexpected EOF`,
	"unknown_kpi":            `unknown KPI "churn"; the catalog (GET /v1/kpis) lists churn_rate`,
	"unknown_version":        `churn_rate has no version 9 (versions: 1, 2)`,
	"unknown_dimension":      `unknown dimension "country" (dimensions: region, segment, acquisition_channel, age_band)`,
	"unknown_dataset_kind":   `unknown dataset kind "order" (kinds: customers, orders, surveys, tickets, events, acquisition_spend, contracts)`,
	"invalid_dataset":        `orders.csv: column "amount": "12,5" is not a number (rows 3, 8)`,
	"invalid_ruleset":        `rule 2 (line 7, column 12): unknown variable "monetry"; did you mean "monetary"?`,
	"invalid_model_input":    `invalid parameter "calibration_end": after the end of the data (2025-01-01)`,
	"missing_dataset":        `churn_rate needs the orders dataset; import it first`,
	"missing_column":         `cac by acquisition_channel needs the column acquisition_channel in customers`,
	"not_found":              `not found`,
	"timeout":                `churn_rate: query timed out`,
	"canceled":               `churn_rate: request canceled`,
	"model_not_converged":    `the BG/NBD fit did not converge; details has the diagnostics`,
	"busy":                   `another write holds the database; try again later`,
	"unauthenticated":        `this call needs an API key: Authorization: Bearer KEY (or X-API-Key)`,
	"forbidden":              `this call needs the admin role; the key is reader`,
	"result_too_large":       `the answer would have about 2,400,000 rows, over the cap of 1,000,000: narrow the window, a coarser grain or fewer dimensions`,
	"out_of_memory":          `churn_rate: the query needs more memory than the server's limit (--memory-limit)`,
	"too_large":              `the request body is over this server's limit of 1048576 bytes`,
	"unsupported_media_type": `Content-Type text/plain is not accepted by PUT /v1/targets/:kpi; send application/json`,
	"not_acceptable":         `none of the media types in Accept is offered: application/json, text/csv, application/x-ndjson, application/vnd.apache.arrow.stream, application/vnd.apache.parquet`,
	"method_not_allowed":     `PATCH is not allowed on /v1/kpis`,
	"host_not_allowed":       `this server does not answer for host "evil.example"; start it with --allowed-host naming the host clients use`,
	"not_ready":              `the database is opening; try again shortly`,
	"shutting_down":          `the server is shutting down; try again on another instance`,
	"internal":               `internal error; the server log has the cause`,
}

// exampleDetails are the details of the examples, where a code has them.
var exampleDetails = map[string]map[string]any{
	"invalid_parameter": {"parameter": "from"},
	"unknown_dimension": {"dimension": "country"},
	"forbidden":         {"role": "admin"},
}
