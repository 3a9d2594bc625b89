package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// maxRuleSetBody bounds a rule set document.
const maxRuleSetBody = 1 << 20

// RuleSetList is GET /v1/rulesets.
type RuleSetList struct {
	RuleSets []engine.RuleSetInfo `json:"rulesets"`
}

// SavedRuleSet is the answer of PUT /v1/rulesets/{name}.
type SavedRuleSet struct {
	Name    string `json:"name" example:"value_tiers"`
	Version int    `json:"version" example:"2"`
}

// Validation is the answer of POST /v1/rulesets/validate for a valid set.
type Validation struct {
	Valid bool     `json:"valid" example:"true"`
	Name  string   `json:"name"`
	Tiers []string `json:"tiers"`
	// Path is where the set would run: sql (pushed down into DuckDB) or go.
	Path string `json:"path" enums:"sql,go"`
}

func readDocument(c *gin.Context) ([]byte, error) {
	doc, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxRuleSetBody))
	if err != nil {
		return nil, badRequest("invalid_body", fmt.Sprintf("the rule set document could not be read (at most %d bytes): %v", maxRuleSetBody, err), nil)
	}
	return doc, nil
}

// listRuleSets godoc
//
//	@ID				listRuleSets
//	@Summary		Rule sets
//	@Description	Every rule set with its latest version, versions and description. The six built-ins are stored as version 1 of their names and are edited like any other.
//	@Tags			rulesets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	RuleSetList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/rulesets [get]
func (s *Server) listRuleSets(c *gin.Context) {
	list, err := s.eng.RuleSets(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, RuleSetList{RuleSets: list})
}

// getRuleSet godoc
//
//	@ID				getRuleSet
//	@Summary		One rule set version
//	@Description	The document of a version (default: the latest).
//	@Tags			rulesets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"rule set name"	example(value_tiers)
//	@Param			version	query	int	false	"version (default: latest)"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.RuleSetInfo
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such rule set or version"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/rulesets/{name} [get]
func (s *Server) getRuleSet(c *gin.Context) {
	v, err := intParam(c, "version")
	if err != nil {
		s.fail(c, err)
		return
	}
	info, err := s.eng.RuleSet(c.Request.Context(), c.Param("name"), v)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, info)
}

// putRuleSet godoc
//
//	@ID				putRuleSet
//	@Summary		Save a rule set
//	@Description	Saves a YAML or JSON rule set (RULES.md) as the next version of its name, after compiling every condition against the feature schema of the loaded data. Refused with 400 invalid_ruleset and details.errors [{rule, line, column, message}] for syntax errors, unknown variables (with a suggestion), type errors, non-bool conditions, duplicate tiers, no default, and the length, nesting and cost limits.
//	@Tags			rulesets
//	@Accept			json
//	@Accept			application/yaml
//	@Accept			text/yaml
//	@Accept			plain
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"rule set name"	example(value_tiers)
//	@Param			body	body	object	true	"the rule set document: a JSON object, or the same as YAML text"
//	@Success		201	{object}	SavedRuleSet	"the first version: the rule set is created"
//	@Header			201	{string}	Location	"/v1/rulesets/{name}"
//	@Header			201	{string}	Content-Location	"/v1/rulesets/{name}?version=1"
//	@Success		200	{object}	SavedRuleSet	"a later version"
//	@Header			200	{string}	Content-Location	"/v1/rulesets/{name}?version={version}"
//	@Failure		400	{object}	ErrorBody	"invalid_ruleset, invalid_body: the document does not compile (details.errors lists rule, line, column, message), or could not be read"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/rulesets/{name} [put]
func (s *Server) putRuleSet(c *gin.Context) {
	doc, err := readDocument(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	info, err := s.eng.SaveRuleSet(c.Request.Context(), c.Param("name"), doc)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The first version creates the rule set (201, Location); a later one
	// replaces what GET /v1/rulesets/{name} answers (200). Either way
	// Content-Location names the version saved.
	status, where := http.StatusOK, "/v1/rulesets/"+url.PathEscape(info.Name)
	if info.Version == 1 {
		status = http.StatusCreated
		c.Header("Location", where)
	}
	c.Header("Content-Location", where+"?version="+strconv.Itoa(info.Version))
	s.writeJSON(c, status, SavedRuleSet{Name: info.Name, Version: info.Version})
}

// validateRuleSet godoc
//
//	@ID				validateRuleSet
//	@Summary		Check a rule set without saving
//	@Description	Compiles the document against the feature schema of the loaded data, as saving it would, and answers its tiers and the path it would run on.
//	@Tags			rulesets
//	@Accept			json
//	@Accept			application/yaml
//	@Accept			text/yaml
//	@Accept			plain
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			body	body	object	true	"the rule set document: a JSON object, or the same as YAML text"
//	@Success		200	{object}	Validation
//	@Failure		400	{object}	ErrorBody	"invalid_ruleset, invalid_body: the document does not compile (details.errors), or could not be read"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Router			/rulesets/validate [post]
func (s *Server) validateRuleSet(c *gin.Context) {
	doc, err := readDocument(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.eng.ValidateRuleSet(c.Request.Context(), doc)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, Validation{Valid: true, Name: v.Name, Tiers: v.Tiers, Path: v.Path})
}

// evaluateRuleSet godoc
//
//	@ID				evaluateRuleSet
//	@Summary		Evaluate a rule set
//	@Description	Assigns every customer a tier (the first matching rule, else the default) from the features as of a date (orders, surveys and tickets strictly before it; default: the day after the latest order), stores the assignments with rule set, version and rule index, and answers the distribution, the path that ran (sql: one CASE expression inside DuckDB; go: the fallback) and the customers skipped by each rule because a feature it reads was null.
//	@Tags			rulesets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"rule set name"	example(value_tiers)
//	@Param			version	query	int	false	"version (default: latest)"
//	@Param			as_of	query	string	false	"as-of date (YYYY-MM-DD)"	Format(date)
//	@Param			path	query	string	false	"go: force the Go path, for comparison"	Enums(sql, go)
//	@Param			Prefer	header	string	false	"respond-async: run as a job and answer 202 at once"
//	@Param			async	query	bool	false	"true: run as a job (as Prefer: respond-async)"
//	@Success		200	{object}	engine.Evaluation	"evaluated within the request"
//	@Success		202	{object}	JobResponse	"running as a job: poll Location"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role, or the key has a row scope (imports, evaluations and fits read every customer)"
//	@Failure		404	{object}	ErrorBody	"not_found: no such rule set or version"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the features need customers and orders"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the work ran past the job timeout; nothing was written"
//	@Header			202	{string}	Location	"the job: /v1/jobs/{id}"
//	@Router			/rulesets/{name}/evaluate [post]
func (s *Server) evaluateRuleSet(c *gin.Context) {
	v, err := intParam(c, "version")
	if err != nil {
		s.fail(c, err)
		return
	}
	var asOf time.Time
	if raw := c.Query("as_of"); raw != "" {
		if asOf, err = engine.ParseDate("as_of", raw); err != nil {
			s.fail(c, err)
			return
		}
	}
	path := c.Query("path")
	if path != "" && path != "sql" && path != "go" {
		s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"path\": %q is not sql or go", path), map[string]any{"parameter": "path"}))
		return
	}
	name := c.Param("name")
	s.respond(c, "evaluation", http.StatusOK, nil, func(ctx context.Context) (any, error) {
		return s.eng.EvaluateRuleSet(ctx, name, v, asOf, path == "go")
	})
}

// assignments godoc
//
//	@ID				listAssignments
//	@Summary		Customers of a tier
//	@Description	The assignments of the latest evaluation of a rule set (or of one version), optionally of one tier.
//	@Tags			rulesets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"rule set name"	example(value_tiers)
//	@Param			tier	query	string	false	"tier"
//	@Param			version	query	int	false	"version (default: the latest evaluated)"
//	@Param			limit	query	int	false	"page size (default 100)"
//	@Param			offset	query	int	false	"rows to skip"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	CustomerList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such rule set, or not evaluated"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Header			200	{string}	Link	"the next and previous pages (RFC 8288: rel=next, rel=prev), as URLs with limit and offset"
//	@Header			200	{integer}	X-Total-Count	"rows in all pages"
//	@Router			/rulesets/{name}/assignments [get]
func (s *Server) assignments(c *gin.Context) {
	format, records, err := tableFormat(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var nums [3]int
	for i, p := range []string{"version", "limit", "offset"} {
		n, err := intParam(c, p)
		if err != nil {
			s.fail(c, err)
			return
		}
		nums[i] = n
	}
	page, err := s.eng.Assignments(c.Request.Context(), c.Param("name"), nums[0], c.Query("tier"), nums[1], nums[2])
	if err != nil {
		s.fail(c, err)
		return
	}
	pageHeaders(c, page)
	if records {
		s.writeTable(c, format, "assignments", page.Columns, page.Types, rowsOf(page.Columns, page.Rows))
		return
	}
	s.writeJSON(c, http.StatusOK, CustomerList{Total: page.Total, Rows: finiteRows(page.Rows)})
}

// transitions godoc
//
//	@ID				getTransitions
//	@Summary		Tier migration matrix
//	@Description	Evaluates the rule set on both sides (two versions, or two as-of dates, or both) and counts the customers moving from each tier to each other tier.
//	@Tags			rulesets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"rule set name"	example(value_tiers)
//	@Param			from_version	query	int	false	"version on the from side (default: latest)"
//	@Param			to_version	query	int	false	"version on the to side (default: latest)"
//	@Param			from_as_of	query	string	false	"as-of date on the from side (YYYY-MM-DD)"	Format(date)
//	@Param			to_as_of	query	string	false	"as-of date on the to side (YYYY-MM-DD)"	Format(date)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.Transitions
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed, or both sides are the same"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such rule set or version"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the features need customers and orders"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/rulesets/{name}/transitions [get]
func (s *Server) transitions(c *gin.Context) {
	var versions [2]int
	for i, p := range []string{"from_version", "to_version"} {
		n, err := intParam(c, p)
		if err != nil {
			s.fail(c, err)
			return
		}
		versions[i] = n
	}
	var dates [2]time.Time
	for i, p := range []string{"from_as_of", "to_as_of"} {
		if raw := c.Query(p); raw != "" {
			d, err := engine.ParseDate(p, raw)
			if err != nil {
				s.fail(c, err)
				return
			}
			dates[i] = d
		}
	}
	if versions[0] == versions[1] && dates[0].Equal(dates[1]) {
		s.fail(c, badRequest("invalid_parameter", "invalid parameter \"from_version\": give two different versions or two different as-of dates",
			map[string]any{"parameter": "from_version"}))
		return
	}
	tr, err := s.eng.RuleSetTransitions(c.Request.Context(), c.Param("name"), versions[0], versions[1], dates[0], dates[1])
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, tr)
}
