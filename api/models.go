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
}

// fitCLV godoc
//
//	@Summary		Fit the CLV model
//	@Description	Fits BG/NBD (purchase frequency and dropout) and Gamma-Gamma (spend) by maximum likelihood on the completed orders up to calibration_end (inclusive): same-day purchases merged, frequency = repeat purchase days, recency and age in the unit (day, week, month = 30.4375 days). With holdout_end, reports predicted vs actual repeat transactions per period (tracking) and per-customer errors. Every customer then gets p_alive, expected_purchases_90d and clv_12m as features: CLV = margin · E[spend] · Σ_{i=1..H} (E[Y(t_i)] − E[Y(t_{i−1})]) / (1 + monthly_discount)^i over H months (horizon_months, default 12; margin default 1). A fit that does not converge answers 422 model_not_converged with its diagnostics.
//	@Tags			models
//	@Accept			json
//	@Produce		json
//	@Param			body	body		CLVFitBody	true	"calibration end (YYYY-MM-DD), unit, optional holdout end, margin, discount and horizon"
//	@Param			Prefer	header		string	false	"respond-async: run as a job and answer 202 at once"
//	@Param			async	query		bool	false	"true: run as a job (as Prefer: respond-async)"
//	@Success		202		{object}	JobResponse	"the job; Location: /v1/jobs/{id}"
//	@Success		200		{object}	engine.CLVFit
//	@Failure		400		{object}	ErrorBody	"invalid_model_input"
//	@Failure		409		{object}	ErrorBody	"missing_dataset"
//	@Failure		422		{object}	ErrorBody	"model_not_converged"
//	@Router			/models/clv/fit [post]
func (s *Server) fitCLV(c *gin.Context) {
	var body CLVFitBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"calibration_end\", \"unit\"?, \"holdout_end\"?, \"margin\"?, \"monthly_discount\"?, \"horizon_months\"?}: "+err.Error(), nil))
		return
	}
	req := engine.CLVFitRequest{Unit: body.Unit, Margin: body.Margin, MonthlyDiscount: body.MonthlyDiscount, HorizonMonths: body.HorizonMonths}
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
//	@Summary		The last CLV fit
//	@Tags			models
//	@Produce		json
//	@Success		200	{object}	engine.CLVFit
//	@Failure		404	{object}	ErrorBody	"not_found: no fit yet"
//	@Router			/models/clv [get]
func (s *Server) getCLV(c *gin.Context) {
	fit, err := s.eng.LastCLVFit(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, fit)
}
