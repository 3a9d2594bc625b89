-- name: predicted_clv
-- version: 1
-- title: Predicted CLV
-- category: models
-- unit: currency
-- description: Mean predicted customer lifetime value (clv_12m: discounted expected margin over the fit's horizon, the fit's purchase model (BG/NBD by default; GET /v1/models/clv names it) × Gamma-Gamma) over the customers scored by the last CLV fit.
-- description: A snapshot as of the fit's calibration end: the window does not change it; group it by any customer dimension.
-- requires: model:clv
-- kind: ratio
-- numerator: coalesce(sum(clv_12m), 0)
-- denominator: count(clv_12m)
SELECT customer_id, clv_12m
FROM clv_scores
