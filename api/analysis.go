package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// variance godoc
//
//	@ID				getKPIVariance
//	@Summary		Variance analysis
//	@Description	Explains a KPI's change between the previous window (the previous calendar month, quarter or year when the window is exactly one, otherwise the same length just before) and the window, per group of `by`. Ratio KPIs: each group's contribution splits into a rate effect (its ratio moved) and a mix effect (its share of the denominator moved); contributions sum exactly to total_change. Additive KPIs: contribution is the group's delta, mix 0. Rows sorted by absolute contribution.
//	@Tags			analysis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"KPI name"	example(avg_order_value)
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-01-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			by	query	string	true	"comma-separated dimensions: customer columns, age_band, tier:RULESET (the tier in a rule set's latest evaluation)"	example(region)
//	@Param			version	query	int	false	"KPI version (default: the KPI's default version)"
//	@Param			where	query	string	false	"CEL condition on customer features restricting the customers counted"
//	@Param			inactive_days	query	number	false	"KPI parameter of churn_rate v2: days without an order after which a customer counts as churned (default 90)"
//	@Param			cycle_multiplier	query	number	false	"KPI parameter of suspected_churn_rate: a customer is suspected churned after this many of their usual order cycles without an order (default 2)"
//	@Param			weights	query	string	false	"KPI parameter of csi: score weights as column:weight pairs, comma-separated (score_a:0.4,score_b:0.6); default equal"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Variance
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter, unknown_dimension, result_too_large: a parameter is malformed (by is required), a dimension unknown, or too many groups"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi, unknown_version: no such KPI, or no such version of it"
//	@Failure		409	{object}	ErrorBody	"missing_dataset, missing_column: the data the KPI needs is not loaded"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/kpis/{name}/variance [get]
func (s *Server) variance(c *gin.Context) {
	q, err := parseKPIQuery(c, c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.eng.Variance(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, v)
}

// diff godoc
//
//	@ID				getKPIDiff
//	@Summary		Compare two versions of a KPI
//	@Description	Runs two versions over the same window, grain and groups and pairs their rows: from_value, to_value, difference. Both full results are included.
//	@Tags			kpis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"KPI name"	example(churn_rate)
//	@Param			from_version	query	int	true	"first version"	example(1)
//	@Param			to_version	query	int	true	"second version"	example(2)
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-01-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			grain	query	string	false	"calendar grain"	Enums(none, day, week, month, quarter, year)
//	@Param			by	query	string	false	"comma-separated dimensions: customer columns, age_band, tier:RULESET (the tier in a rule set's latest evaluation)"	example(region)
//	@Param			where	query	string	false	"CEL condition on customer features restricting the customers counted"
//	@Param			inactive_days	query	number	false	"KPI parameter of churn_rate v2: days without an order after which a customer counts as churned (default 90)"
//	@Param			cycle_multiplier	query	number	false	"KPI parameter of suspected_churn_rate: a customer is suspected churned after this many of their usual order cycles without an order (default 2)"
//	@Param			weights	query	string	false	"KPI parameter of csi: score weights as column:weight pairs, comma-separated (score_a:0.4,score_b:0.6); default equal"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Diff
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter, unknown_dimension, result_too_large: a parameter is malformed or missing, a dimension unknown, or the answer would pass the row cap"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi, unknown_version: no such KPI, or no such version of it"
//	@Failure		409	{object}	ErrorBody	"missing_dataset, missing_column: the data the KPI needs is not loaded"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/kpis/{name}/diff [get]
func (s *Server) diff(c *gin.Context) {
	versions := [2]int{}
	for i, p := range []string{"from_version", "to_version"} {
		v := c.Query(p)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter %q: %q is not a version number", p, v), map[string]any{"parameter": p}))
			return
		}
		versions[i] = n
	}
	c.Request.URL.RawQuery = withoutParams(c, "from_version", "to_version")
	q, err := parseKPIQuery(c, c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.eng.Diff(c.Request.Context(), q, versions[0], versions[1])
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, d)
}

// withoutParams drops endpoint parameters before the query string is read
// as a KPI query (where unknown names are KPI parameters).
func withoutParams(c *gin.Context, names ...string) string {
	v := c.Request.URL.Query()
	for _, n := range names {
		v.Del(n)
	}
	return v.Encode()
}

// scorecard godoc
//
//	@ID				getScorecard
//	@Summary		Scorecard
//	@Description	Every KPI whose data is present (default version): value over the window, value over the previous window (the previous calendar month, quarter or year when the window is exactly one, otherwise the same length just before), change, target, and status against it: ok (on the right side), warn (on the wrong side by at most warn_within, in the KPI's unit), alert (beyond). Status is null without a target. Scoped targets add a row for their dimension values. KPIs left off (data missing) are listed under skipped.
//	@Tags			analysis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-01-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			filter	query	[]string	false	"DIMENSION=VALUE, repeatable: only the customers with these values (tier:RULESET=TIER for a rule set's tier); KPIs without the dimension are skipped, and each KPI is compared with its target scoped to exactly these values, else its unscoped one"	collectionFormat(multi)	example(region=north)
//	@Param			pack	query	string	false	"a KPI pack (GET /packs): only its KPIs, in its order, with its directions where no target sets one"	example(retention)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Scorecard
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter, unknown_dimension: a parameter is malformed (details.parameter names it), or a filter's rule set has no evaluation"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such pack"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Header			200	{string}	Server-Timing	"scorecard;dur=MILLISECONDS;desc=PATH: time spent computing it, and how: fast (the KPIs with a fast form in one statement over shared per-customer tables, the rest on their own), plain (every KPI on its own) or cache (a stored scorecard of this generation and window)"
//	@Router			/scorecard [get]
func (s *Server) scorecard(c *gin.Context) {
	q, err := parseKPIQuery(c, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	filter, err := scorecardFilter(c.QueryArray("filter"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sc, err := s.eng.ScorecardOf(c.Request.Context(), engine.ScorecardQuery{From: q.From, To: q.To, Pack: c.Query("pack"), Filter: filter})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Server-Timing", fmt.Sprintf("scorecard;dur=%.1f;desc=%q", sc.Elapsed, sc.Path))
	s.writeJSON(c, http.StatusOK, sc)
}

// TargetBody is the body of PUT /v1/targets/{kpi}.
type TargetBody struct {
	Target     *float64          `json:"target" example:"0.35"`
	Direction  string            `json:"direction,omitempty" enums:"higher_is_better,lower_is_better"`
	WarnWithin float64           `json:"warn_within" example:"0.05"`
	By         map[string]string `json:"by,omitempty"`
	From       string            `json:"from,omitempty" example:"2024-01-01"`
	To         string            `json:"to,omitempty" example:"2025-01-01"`
}

// TargetList is GET /v1/targets.
type TargetList struct {
	Targets []engine.Target `json:"targets"`
}

// putTarget godoc
//
//	@ID				putTarget
//	@Summary		Set a KPI target
//	@Description	Stores the target (standard value) of a KPI in the database, replacing the one of the same scope and period. direction defaults to the KPI's; warn_within is in the KPI's unit; by scopes it to dimension values; from/to to a period. Answers 201 when the target is new for its scope and period, 200 when it replaced one.
//	@Tags			targets
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			kpi	path	string	true	"KPI name"	example(churn_rate)
//	@Param			body	body	TargetBody	true	"the target"
//	@Success		200	{object}	engine.Target	"replaced"
//	@Success		201	{object}	engine.Target	"created: no target of this scope and period existed"
//	@Header			201	{string}	Location	"/v1/targets/{kpi}"
//	@Failure		400	{object}	ErrorBody	"invalid_body, invalid_parameter: the body is not the JSON expected, or a field is wrong"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi: no such KPI"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/targets/{kpi} [put]
func (s *Server) putTarget(c *gin.Context) {
	var body TargetBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"target\", \"direction\"?, \"warn_within\"?, \"by\"?, \"from\"?, \"to\"?}: "+err.Error(), nil))
		return
	}
	if body.Target == nil {
		s.fail(c, badRequest("invalid_parameter", "invalid parameter \"target\": required", map[string]any{"parameter": "target"}))
		return
	}
	t, err := s.eng.SetTarget(c.Request.Context(), engine.Target{KPI: c.Param("kpi"), Target: *body.Target, Direction: body.Direction,
		WarnWithin: body.WarnWithin, By: body.By, From: body.From, To: body.To})
	if err != nil {
		s.fail(c, err)
		return
	}
	// A target of a new scope and period is created (201; Location lists
	// the KPI's targets, where it reads back); one of the same scope and
	// period is replaced (200).
	status := http.StatusOK
	if t.Created {
		status = http.StatusCreated
		c.Header("Location", "/v1/targets/"+url.PathEscape(t.KPI))
	}
	s.writeJSON(c, status, t)
}

// listTargets godoc
//
//	@ID				listTargets
//	@Summary		List targets
//	@Tags			targets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	TargetList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/targets [get]
func (s *Server) listTargets(c *gin.Context) {
	ts, err := s.eng.Targets(c.Request.Context(), "")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, TargetList{Targets: ts})
}

// getTargets godoc
//
//	@ID				getTargets
//	@Summary		A KPI's targets
//	@Tags			targets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			kpi	path	string	true	"KPI name"	example(churn_rate)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	TargetList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi: no such KPI"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/targets/{kpi} [get]
func (s *Server) getTargets(c *gin.Context) {
	if _, err := s.eng.Catalog().Lookup(c.Param("kpi")); err != nil {
		s.fail(c, err)
		return
	}
	ts, err := s.eng.Targets(c.Request.Context(), c.Param("kpi"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, TargetList{Targets: ts})
}

// DeletedTargets is DELETE /v1/targets/{kpi}.
type DeletedTargets struct {
	Deleted int64 `json:"deleted"`
}

// deleteTargets godoc
//
//	@ID				deleteTargets
//	@Summary		Delete a KPI's targets
//	@Description	Deletes all targets of the KPI, or with by= only the one of that scope (by=region:north,segment:b2b; by= empty string: the unscoped one).
//	@Tags			targets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			kpi	path	string	true	"KPI name"	example(churn_rate)
//	@Param			by	query	string	false	"scope: dim:value pairs, comma-separated; a ';' in a value percent-encoded as %3B"
//	@Success		200	{object}	DeletedTargets
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi: no such KPI"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/targets/{kpi} [delete]
func (s *Server) deleteTargets(c *gin.Context) {
	// Go's query parser drops a pair holding a raw ';' (by=region:north;south)
	// without a word: by would read as absent and every target of the KPI
	// would go. Refuse it; by=region:north%3Bsouth names the scope.
	if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		s.fail(c, badRequest("invalid_parameter", "invalid query: "+err.Error()+" (percent-encode ';' in a value as %3B)",
			map[string]any{"parameter": "by"}))
		return
	}
	raw, scoped := c.GetQuery("by")
	by := map[string]string{}
	for _, pair := range strings.Split(raw, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"by\": %q is not dimension:value", pair), map[string]any{"parameter": "by"}))
			return
		}
		by[k] = v
	}
	n, err := s.eng.DeleteTargets(c.Request.Context(), c.Param("kpi"), by, scoped)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, DeletedTargets{Deleted: n})
}

// scorecardFilter reads the filter=DIMENSION=VALUE parameters of the
// scorecard (nil without any).
func scorecardFilter(params []string) (map[string]string, error) {
	if len(params) == 0 {
		return nil, nil
	}
	filter := map[string]string{}
	for _, p := range params {
		dim, value, ok := strings.Cut(p, "=")
		dim = strings.TrimSpace(dim)
		if !ok || dim == "" {
			return nil, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"filter\": %q is not DIMENSION=VALUE", p),
				map[string]any{"parameter": "filter"})
		}
		if _, dup := filter[dim]; dup {
			return nil, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"filter\": dimension %q given twice", dim),
				map[string]any{"parameter": "filter"})
		}
		filter[dim] = value
	}
	return filter, nil
}
