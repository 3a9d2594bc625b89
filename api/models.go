package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// CLVFitBody is the body of POST /v1/models/clv/fit.
type CLVFitBody struct {
	CalibrationEnd  string  `json:"calibration_end" example:"1997-09-30"`
	HoldoutEnd      string  `json:"holdout_end,omitempty" example:"1998-06-30"`
	Unit            string  `json:"unit,omitempty" enums:"day,week,month" example:"week"`
	Margin          float64 `json:"margin,omitempty" example:"0.3"`
	MonthlyDiscount float64 `json:"monthly_discount,omitempty" example:"0.01"`
	HorizonMonths   int     `json:"horizon_months,omitempty" example:"12"`
	// Model is the purchase-count model (default bgnbd); bgbb counts
	// periods of period_days days, at most periods of them, from each
	// customer's first purchase.
	Model      string `json:"model,omitempty" enums:"bgnbd,pareto_nbd,mbgnbd,bgbb" example:"pareto_nbd"`
	PeriodDays int    `json:"period_days,omitempty" example:"21"`
	Periods    int    `json:"periods,omitempty" example:"13"`
}

// fitCLV godoc
//
//	@ID				fitCLV
//	@Summary		Fit the CLV model
//	@Description	Fits the purchase-count model of "model" (bgnbd, the default; pareto_nbd; mbgnbd; or bgbb, discrete time, with period_days and periods: from each customer's first purchase day, the periods of period_days days with a repeat purchase, at most periods of them) and Gamma-Gamma (spend) by maximum likelihood on the completed orders up to calibration_end (inclusive): same-day purchases merged, frequency = repeat purchase days, recency and age in the unit (day, week, month = 30.4375 days). With holdout_end, reports predicted vs actual repeat transactions per period (tracking) and per-customer errors. Every customer then gets p_alive, expected_purchases_90d and clv_12m as features: CLV = margin · E[spend] · Σ_{i=1..H} (E[Y(t_i)] − E[Y(t_{i−1})]) / (1 + monthly_discount)^i over H months (horizon_months, default 12; margin default 1). A fit that does not converge answers 422 model_not_converged with its diagnostics.
//	@Tags			models
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			body	body	CLVFitBody	true	"calibration end (YYYY-MM-DD), unit, optional holdout end, margin, discount and horizon"
//	@Param			Prefer	header	string	false	"respond-async: run as a job and answer 202 at once"
//	@Param			async	query	bool	false	"true: run as a job (as Prefer: respond-async)"
//	@Success		200	{object}	engine.CLVFit	"fitted within the request"
//	@Success		202	{object}	JobResponse	"running as a job: poll Location"
//	@Failure		400	{object}	ErrorBody	"invalid_model_input, invalid_body, invalid_parameter: the body is not the JSON expected, or a date or option is out of range"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role, or the key has a row scope (imports, evaluations and fits read every customer)"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the model is fitted on orders"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		422	{object}	ErrorBody	"model_not_converged: the likelihood did not converge; details has the diagnostics"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the work ran past the job timeout; nothing was written"
//	@Header			202	{string}	Location	"the job: /v1/jobs/{id}"
//	@Router			/models/clv/fit [post]
func (s *Server) fitCLV(c *gin.Context) {
	var body CLVFitBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"calibration_end\", \"unit\"?, \"holdout_end\"?, \"margin\"?, \"monthly_discount\"?, \"horizon_months\"?, \"model\"?, \"period_days\"?, \"periods\"?}: "+err.Error(), nil))
		return
	}
	req := engine.CLVFitRequest{Unit: body.Unit, Margin: body.Margin, MonthlyDiscount: body.MonthlyDiscount, HorizonMonths: body.HorizonMonths,
		Model: body.Model, PeriodDays: body.PeriodDays, Periods: body.Periods}
	var err error
	if req.CalibrationEnd, err = engine.ParseDate("calibration_end", body.CalibrationEnd); err != nil {
		s.fail(c, err)
		return
	}
	if body.HoldoutEnd != "" {
		var h time.Time
		if h, err = engine.ParseDate("holdout_end", body.HoldoutEnd); err != nil {
			s.fail(c, err)
			return
		}
		req.HoldoutEnd = &h
	}
	s.respond(c, "clv_fit", http.StatusOK, nil, func(ctx context.Context) (any, error) {
		return s.eng.FitCLV(ctx, req)
	})
}

// getCLV godoc
//
//	@ID				getCLV
//	@Summary		The last CLV fit
//	@Description	The stored fit: options, parameters, summary, holdout comparison and timings.
//	@Tags			models
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.CLVFit
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no fit yet"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/models/clv [get]
func (s *Server) getCLV(c *gin.Context) {
	fit, err := s.eng.LastCLVFit(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, fit)
}

// CLVCompareBody is the body of POST /v1/models/clv/compare.
type CLVCompareBody struct {
	CalibrationEnd string   `json:"calibration_end" example:"1997-09-30"`
	HoldoutEnd     string   `json:"holdout_end" example:"1998-06-30"`
	Unit           string   `json:"unit,omitempty" enums:"day,week,month" example:"week"`
	Models         []string `json:"models,omitempty" example:"bgnbd,pareto_nbd,mbgnbd,nbd"`
}

// compareCLV godoc
//
//	@ID				compareCLV
//	@Summary		Compare purchase-count models on a holdout
//	@Description	Fits BG/NBD, Pareto/NBD, MBG/NBD and the NBD baseline (or the subset in "models") on the orders up to calibration_end and ranks them by their per-customer mean absolute error on the holdout period to holdout_end. Each model's line has its parameters, log-likelihood, BIC (−2·LL + parameters·ln customers), expected against actual holdout repeat transactions and the per-customer MAE and RMSE; by_frequency has the mean holdout purchases by calibration frequency (0..6, 7+), actual and per model, and tracking the repeat transactions per period (unit), actual and per model, per period and cumulated. Nothing is stored or scored. Models that do not converge are listed under failed; if none converges, 422 model_not_converged.
//	@Tags			models
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			body	body	CLVCompareBody	true	"calibration and holdout ends (YYYY-MM-DD), unit, models"
//	@Param			Prefer	header	string	false	"respond-async: run as a job and answer 202 at once"
//	@Param			async	query	bool	false	"true: run as a job (as Prefer: respond-async)"
//	@Success		200	{object}	clv.Comparison	"compared within the request"
//	@Success		202	{object}	JobResponse	"running as a job: poll Location"
//	@Failure		400	{object}	ErrorBody	"invalid_model_input, invalid_body, invalid_parameter: the body is not the JSON expected, a date is missing or out of range, or a model is unknown"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role, or the key has a row scope (fits read every customer)"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the models are fitted on orders"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		422	{object}	ErrorBody	"model_not_converged: no model converged; details.failed has the reasons"
//	@Failure		503	{object}	ErrorBody	"busy: the read lost the race against writes repeatedly; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the work ran past the job timeout"
//	@Header			202	{string}	Location	"the job: /v1/jobs/{id}"
//	@Router			/models/clv/compare [post]
func (s *Server) compareCLV(c *gin.Context) {
	var body CLVCompareBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"calibration_end\", \"holdout_end\", \"unit\"?, \"models\"?}: "+err.Error(), nil))
		return
	}
	req := engine.CLVCompareRequest{Unit: body.Unit, Models: body.Models}
	var err error
	if req.CalibrationEnd, err = engine.ParseDate("calibration_end", body.CalibrationEnd); err != nil {
		s.fail(c, err)
		return
	}
	h, err := engine.ParseDate("holdout_end", body.HoldoutEnd)
	if err != nil {
		s.fail(c, err)
		return
	}
	req.HoldoutEnd = &h
	s.respond(c, "clv_compare", http.StatusOK, nil, func(ctx context.Context) (any, error) {
		return s.eng.CompareCLV(ctx, req)
	})
}
