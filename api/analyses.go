package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// explain godoc
//
//	@ID				getKPIExplain
//	@Summary		Explain a KPI's change
//	@Description	Splits the change of a KPI between the previous window (the previous calendar month, quarter or year when the window is exactly one, otherwise the same length just before) and the window over every customer dimension (age_band included; raw age is split by its bands) and the tiers of every evaluated rule set at once — or over the KPI's own dimensions — in one statement (the KPI rows computed once, aggregated with GROUPING SETS). Ratio KPIs: each group's contribution is its rate effect plus its mix effect (the variance arithmetic; a dimension's contributions sum to total_change); additive KPIs: its delta. Drivers are ranked by absolute contribution across all dimensions, each with its share of the change and a noise flag: for ratio KPIs of counts (unit ratio) a pooled two-proportion z-test of the group's rate, for count KPIs a two-count (Poisson) z-test, two-sided at level 0.05; other KPIs get no test (within_noise null). Dimensions with one value, or more than 50, are listed under skipped. Matrices (cohort_retention) and statistics (medians) cannot be split: 400.
//	@Tags			analysis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"KPI name"	example(churn_rate)
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-10-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			version	query	int	false	"KPI version (default: the KPI's default version)"
//	@Param			where	query	string	false	"CEL condition on customer features restricting the customers counted"
//	@Param			inactive_days	query	number	false	"KPI parameter of churn_rate v2: days without an order after which a customer counts as churned (default 90)"
//	@Param			cycle_multiplier	query	number	false	"KPI parameter of suspected_churn_rate: a customer is suspected churned after this many of their usual order cycles without an order (default 2)"
//	@Param			weights	query	string	false	"KPI parameter of csi: score weights as column:weight pairs, comma-separated (score_a:0.4,score_b:0.6), or derived (the satisfaction drivers' weights); default equal"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Explanation
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed, by or grain given, or the KPI is a matrix or a statistic, which cannot be split"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi, unknown_version: no such KPI, or no such version of it"
//	@Failure		409	{object}	ErrorBody	"missing_dataset, missing_column: the data the KPI needs is not loaded"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/kpis/{name}/explain [get]
func (s *Server) explain(c *gin.Context) {
	q, err := parseKPIQuery(c, c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(q.By) > 0 {
		s.fail(c, badRequest("invalid_parameter", "invalid parameter \"by\": explain splits over every dimension at once; use /variance to split by chosen ones", map[string]any{"parameter": "by"}))
		return
	}
	x, err := s.eng.Explain(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, x)
}

// satisfactionDrivers godoc
//
//	@ID				getSatisfactionDrivers
//	@Summary		Satisfaction drivers
//	@Description	For every score_* attribute of the surveys dated in the window: mean (performance), standard deviation, top-2-box share (4 or 5), the Likert counts of 1..5, Pearson and Spearman correlation with csat (pairwise complete responses), and its importance for overall satisfaction: LMG, the Shapley decomposition of R² of csat regressed on all attributes (exact over the 2^k subsets of the correlation matrix of the responses with csat and every attribute; it shares R² fairly between correlated attributes, where regression weights swing), as a share of R² (importances sum to 1); Pratt's β·r beyond 12 attributes. Each attribute's quadrant of the importance-performance matrix (split at the mean importance 1/k and the mean of the attribute means): keep_up, concentrate_here, low_priority, possible_overkill. Pairs correlated beyond |r| 0.8 are redundant (the less important is dropped); attributes with |r| < 0.2 with csat are weak. weights are the CSI weights derived from the importances of the rest (csi?weights=derived uses them). by= repeats the analysis per group of a customer dimension or tier:RULESET; compare=true adds the previous window's mean of each attribute and Welch's t-test of its change (two-sided, level 0.05).
//	@Tags			analysis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-01-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			by	query	string	false	"a customer dimension or tier:RULESET: the analysis per group too"	example(region)
//	@Param			compare	query	bool	false	"compare each attribute's mean with the previous window (Welch's t-test)"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.SatisfactionDrivers
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter, unknown_dimension: a parameter is malformed, or by names no dimension (or one with more than 100 values)"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		409	{object}	ErrorBody	"missing_dataset, missing_column: no surveys, or surveys without csat or any score_* column"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/satisfaction/drivers [get]
func (s *Server) satisfactionDrivers(c *gin.Context) {
	q, err := parseKPIQuery(c, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	dq := engine.DriversQuery{From: q.From, To: q.To}
	if len(q.By) > 1 {
		s.fail(c, badRequest("invalid_parameter", "invalid parameter \"by\": one dimension at a time", map[string]any{"parameter": "by"}))
		return
	}
	if len(q.By) == 1 {
		dq.By = q.By[0]
	}
	if dq.Compare, err = boolParam(c, "compare"); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.eng.SatisfactionDrivers(c.Request.Context(), dq)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, d)
}

// boolParam reads an optional true/false query parameter.
func boolParam(c *gin.Context, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter %q: %q is not true or false", name, v), map[string]any{"parameter": name})
	}
	return b, nil
}

// churnDrivers godoc
//
//	@ID				getChurnDrivers
//	@Summary		Churn drivers
//	@Description	The customers active (a completed order) in the previous window, and which of them churned (no completed order in the window, as churn_rate v1), split by: whether they complained (a complaint ticket in the previous window), the categories of their tickets then (a customer is counted in each of theirs), their satisfaction band (mean csat over the previous window: dissatisfied < 3, neutral, satisfied >= 4, no survey), their purchase-cycle status as of the window start (suspected churn), their tier in every evaluated rule set, and each customer dimension (age as age_band; dimensions with one value or more than 50 are skipped). Each group: customers, churned, churn rate, lift (its rate over the overall rate), and a pooled two-proportion z-test against the other customers (two-sided, level 0.05). One statement.
//	@Tags			analysis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-10-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.ChurnDrivers
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: no orders loaded"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/analyses/churn_drivers [get]
func (s *Server) churnDrivers(c *gin.Context) {
	q, err := parseKPIQuery(c, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.eng.ChurnDriversOf(c.Request.Context(), q.From, q.To)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, d)
}

// PackList is GET /v1/packs.
type PackList struct {
	Packs []*engine.Pack `json:"packs"`
}

// listPacks godoc
//
//	@ID				listPacks
//	@Summary		List KPI packs
//	@Description	The KPI packs: named sets of KPIs chosen for a business goal (growth, profit, retention, service) or a customer type (b2b, ecommerce), each with its goal in a sentence and each KPI's suggested direction. The built-in ones are files beside the KPIs (queries/packs/*.yaml); others are added with PUT /packs/{name}. GET /scorecard?pack=NAME is the scorecard of one pack.
//	@Tags			packs
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	PackList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/packs [get]
func (s *Server) listPacks(c *gin.Context) {
	ps, err := s.eng.Packs(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, PackList{Packs: ps})
}

// getPack godoc
//
//	@ID				getPack
//	@Summary		A KPI pack
//	@Tags			packs
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"pack name"	example(retention)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Pack
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such pack"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/packs/{name} [get]
func (s *Server) getPack(c *gin.Context) {
	p, err := s.eng.PackByName(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, p)
}

// putPack godoc
//
//	@ID				putPack
//	@Summary		Add or replace a KPI pack
//	@Description	Stores a pack in the database (one write): a goal sentence and KPIs with suggested directions (a KPI without one takes the KPI's). The name in the body, when given, must be the path's. Built-in packs cannot be replaced. 201 when new, 200 when it replaced one.
//	@Tags			packs
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"pack name"	example(my_retention)
//	@Param			body	body	engine.Pack	true	"the pack (builtin is ignored)"
//	@Success		200	{object}	engine.Pack	"replaced"
//	@Success		201	{object}	engine.Pack	"created"
//	@Header			201	{string}	Location	"/v1/packs/{name}"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: the document is not a pack, names an unknown KPI or direction, or a built-in pack"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		413	{object}	ErrorBody	"too_large: the body is over the limit"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/packs/{name} [put]
func (s *Server) putPack(c *gin.Context) {
	doc, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, created, err := s.eng.SavePack(c.Request.Context(), c.Param("name"), doc)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/packs/"+url.PathEscape(p.Name))
	}
	s.writeJSON(c, status, p)
}

// deletePack godoc
//
//	@ID				deletePack
//	@Summary		Delete a KPI pack
//	@Description	Deletes a pack added through the API; built-in packs stay.
//	@Tags			packs
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"pack name"	example(my_retention)
//	@Success		204	"deleted"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a built-in pack"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such pack"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/packs/{name} [delete]
func (s *Server) deletePack(c *gin.Context) {
	if err := s.eng.DeletePack(c.Request.Context(), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// AlertList is GET /v1/alerts.
type AlertList struct {
	Alerts []engine.Alert `json:"alerts"`
}

// DeliveryList is GET /v1/alerts/{name}/deliveries.
type DeliveryList struct {
	Deliveries []engine.Delivery `json:"deliveries"`
}

// putAlert godoc
//
//	@ID				putAlert
//	@Summary		Set an alert
//	@Description	Stores (or replaces) an alert: after every import (in the background, bounded by a deadline; the import does not wait) and on POST /alerts/{name}/check, the KPI's scorecard status is evaluated over the default window (as GET /scorecard without from and to), for the dimension values of by when given (with the target of that scope, else the KPI's). When the status enters one of on, one POST goes to the webhook with the KPI, value, target, status, previous status and a link to its explanation, signed with X-Custkpi-Signature: sha256=HEX, the HMAC-SHA256 of the body keyed by the secret, when a secret is set; failures (network, 429, 5xx) are retried with a doubling backoff; every delivery is logged. An unchanged status sends nothing. Webhooks are http or https; loopback, link-local and the server's own addresses are refused (checked again when dialled) unless serve --webhook-allow-loopback. A replaced alert starts fresh. The secret is stored to sign with and never shown.
//	@Tags			alerts
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"alert name (letters, digits, _ and -)"	example(churn_red)
//	@Param			body	body	engine.AlertSpec	true	"the alert"
//	@Success		200	{object}	engine.Alert	"replaced"
//	@Success		201	{object}	engine.Alert	"created"
//	@Header			201	{string}	Location	"/v1/alerts/{name}"
//	@Failure		400	{object}	ErrorBody	"invalid_body, invalid_parameter, unknown_dimension: the body is not the JSON expected, the KPI is unknown or a matrix, a status or dimension unknown, or the webhook not allowed"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role, and a key without a row scope"
//	@Failure		413	{object}	ErrorBody	"too_large: the body is over the limit"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/alerts/{name} [put]
func (s *Server) putAlert(c *gin.Context) {
	var spec engine.AlertSpec
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		if tooLarge(err) {
			s.fail(c, err)
			return
		}
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"kpi\", \"by\"?, \"on\": [\"warn\", \"alert\"], \"webhook\", \"secret\"?}: "+err.Error(), nil))
		return
	}
	a, err := s.eng.PutAlert(c.Request.Context(), c.Param("name"), spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if a.Created {
		status = http.StatusCreated
		c.Header("Location", "/v1/alerts/"+url.PathEscape(a.Name))
	}
	s.writeJSON(c, status, a)
}

// listAlerts godoc
//
//	@ID				listAlerts
//	@Summary		List alerts
//	@Description	Every alert with the status its last evaluation saw (null: never evaluated; none: no value or no target).
//	@Tags			alerts
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Success		200	{object}	AlertList
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Router			/alerts [get]
func (s *Server) listAlerts(c *gin.Context) {
	as, err := s.eng.Alerts(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, AlertList{Alerts: as})
}

// getAlert godoc
//
//	@ID				getAlert
//	@Summary		An alert
//	@Tags			alerts
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"alert name"	example(churn_red)
//	@Success		200	{object}	engine.Alert
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such alert"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Router			/alerts/{name} [get]
func (s *Server) getAlert(c *gin.Context) {
	a, err := s.eng.AlertByName(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, a)
}

// deleteAlert godoc
//
//	@ID				deleteAlert
//	@Summary		Delete an alert
//	@Description	Deletes the alert; its delivery log stays.
//	@Tags			alerts
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"alert name"	example(churn_red)
//	@Success		204	"deleted"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such alert"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/alerts/{name} [delete]
func (s *Server) deleteAlert(c *gin.Context) {
	if err := s.eng.DeleteAlert(c.Request.Context(), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// checkAlert godoc
//
//	@ID				checkAlert
//	@Summary		Evaluate an alert now
//	@Description	Evaluates the alert as an import would: when its status entered one of its states, the webhook is called (with retries) before the answer, which says what was sent.
//	@Tags			alerts
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"alert name"	example(churn_red)
//	@Success		200	{object}	engine.AlertCheck
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such alert"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: another write held the database, or the query reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the evaluation ran past the server's timeout"
//	@Router			/alerts/{name}/check [post]
func (s *Server) checkAlert(c *gin.Context) {
	r, err := s.eng.CheckAlert(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, r)
}

// alertDeliveries godoc
//
//	@ID				listAlertDeliveries
//	@Summary		An alert's delivery log
//	@Description	What was sent to the webhook, newest first: the body, the attempts it took, the last HTTP status, delivered or failed.
//	@Tags			alerts
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"alert name"	example(churn_red)
//	@Param			limit	query	int	false	"at most this many (default 100, at most 1000)"
//	@Success		200	{object}	DeliveryList
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such alert"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Router			/alerts/{name}/deliveries [get]
func (s *Server) alertDeliveries(c *gin.Context) {
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"limit\": %q is not a number from 1 to 1000", v), map[string]any{"parameter": "limit"}))
			return
		}
		limit = n
	}
	ds, err := s.eng.AlertDeliveries(c.Request.Context(), c.Param("name"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, DeliveryList{Deliveries: ds})
}
