-- name: csat_satisfied_share
-- version: 1
-- title: Satisfied share (CSAT 4-5)
-- category: satisfaction
-- unit: ratio
-- description: Responses dated in the window with csat >= 4 / responses dated in the window with a csat.
-- requires: surveys
-- kind: ratio
-- numerator: count(*) FILTER (WHERE csat >= 4)
-- denominator: count(csat)
SELECT customer_id, response_id, csat
FROM surveys
WHERE survey_date >= win_start AND survey_date < win_end
  AND csat IS NOT NULL
