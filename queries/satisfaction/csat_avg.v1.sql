-- name: csat_avg
-- version: 1
-- title: Average CSAT
-- category: satisfaction
-- unit: score
-- description: Mean csat (1..5) over the survey responses dated in the window with a csat.
-- requires: surveys
-- kind: ratio
-- numerator: coalesce(sum(csat), 0)
-- denominator: count(csat)
SELECT customer_id, response_id, csat
FROM surveys
WHERE survey_date >= win_start AND survey_date < win_end
  AND csat IS NOT NULL
