package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
	"custkpi/engine/clv"
)

// RetentionFitBody is the body of POST /v1/models/retention/fit: either
// survivors, or source "contracts".
type RetentionFitBody struct {
	Survivors []int  `json:"survivors,omitempty" example:"1000,869,743,653,593,551,517,491"`
	Source    string `json:"source,omitempty" enums:"contracts" example:"contracts"`
	// Period groups contracts into start cohorts by month or year.
	Period   string  `json:"period,omitempty" enums:"month,year" example:"year"`
	ByCohort bool    `json:"by_cohort,omitempty"`
	AsOf     string  `json:"as_of,omitempty" example:"2024-06-30"`
	Horizon  int     `json:"horizon,omitempty" example:"5"`
	Discount float64 `json:"discount,omitempty" example:"0.1"`
}

// fitRetention godoc
//
//	@ID				fitRetention
//	@Summary		Fit the shifted-beta-geometric retention model
//	@Description	Fits the sBG model of contractual retention (Fader & Hardie 2007) by maximum likelihood, either from survivors (one cohort's customers still active at the start of each period, the first being the cohort's size; they must start above 0 and never increase) or from the contracts dataset (source "contracts"): a customer's periods are her contracts in start order; she left after her last contract if it was not renewed and ended by as_of (default: the latest start_date), is undecided if it ends later, and survived them all if it was renewed. Cohorts are the month or year (period) of the first contract; they are pooled, and with by_cohort also fitted one by one. The answer has α, β and the log-likelihood, the fitted and observed retention and survival per period and their projection over horizon more periods (default 5), and with a discount rate per period the DERL of a new customer (expected discounted number of future renewals, the first undiscounted). Nothing is stored.
//	@Tags			models
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			body	body	RetentionFitBody	true	"survivors, or source contracts with the cohort period"
//	@Success		200	{object}	engine.RetentionFit
//	@Failure		400	{object}	ErrorBody	"invalid_model_input, invalid_body, invalid_parameter: neither survivors nor a source, counts that increase or start at 0, a contracts dataset without renewals, too short a history"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role, or the key has a row scope (a fit on contracts reads every customer)"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: source contracts needs the contracts dataset"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		422	{object}	ErrorBody	"model_not_converged: the likelihood did not converge; details has the diagnostics"
//	@Failure		503	{object}	ErrorBody	"busy: the read lost the race against writes repeatedly; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the work ran past the request timeout"
//	@Router			/models/retention/fit [post]
func (s *Server) fitRetention(c *gin.Context) {
	var body RetentionFitBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"survivors\": [1000, 631, ...]} or {\"source\": \"contracts\", \"period\"?, \"by_cohort\"?, \"as_of\"?}, with \"horizon\"? and \"discount\"?: "+err.Error(), nil))
		return
	}
	req := engine.RetentionRequest{Survivors: body.Survivors, Source: body.Source, Period: body.Period, ByCohort: body.ByCohort,
		Horizon: body.Horizon, Discount: body.Discount}
	if body.AsOf != "" {
		d, err := engine.ParseDate("as_of", body.AsOf)
		if err != nil {
			s.fail(c, err)
			return
		}
		req.AsOf = &d
	}
	fit, err := s.eng.FitRetention(c.Request.Context(), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, fit)
}

// pAliveMatrix godoc
//
//	@ID				pAliveMatrix
//	@Summary		P(alive) and expected purchases over frequency × recency
//	@Description	Evaluates the last CLV fit's model on a grid, as data for a heatmap: rows are frequencies 0..max_frequency (default 20), columns recencies 0..T in steps (default 20) equal parts, T the customers' age in the fit's unit (default: the calibration length). The answer lists one cell per grid point (frequency, recency, P(alive), expected purchases in the next horizon_days, default 90), the tidy form a notebook pivots into a heatmap. With frequency 0 the recency is taken as 0 whatever the column. For a BG/BB fit the grid is x, t_x = 0..periods (or T periods), without the patterns that cannot occur.
//	@Tags			models
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			max_frequency	query	int	false	"largest frequency (default 20, at most 1000)"
//	@Param			steps	query	int	false	"recency columns minus one (default 20, at most 1000)"
//	@Param			T	query	number	false	"age of the customers, in the fit's unit or periods"
//	@Param			horizon_days	query	number	false	"horizon of the expected purchases in days (default 90)"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	clv.AliveMatrix
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a size or age out of range"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no fit yet"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/models/clv/p_alive_matrix [get]
func (s *Server) pAliveMatrix(c *gin.Context) {
	var o clv.MatrixOptions
	var err error
	if o.MaxFrequency, err = intParam(c, "max_frequency"); err != nil {
		s.fail(c, err)
		return
	}
	if o.Steps, err = intParam(c, "steps"); err != nil {
		s.fail(c, err)
		return
	}
	if o.T, err = floatParam(c, "T"); err != nil {
		s.fail(c, err)
		return
	}
	if o.HorizonDays, err = floatParam(c, "horizon_days"); err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.eng.PAliveMatrix(c.Request.Context(), o)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, m)
}

func floatParam(c *gin.Context, name string) (float64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f {
		return 0, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter %q: %q is not a number", name, v), map[string]any{"parameter": name})
	}
	return f, nil
}
