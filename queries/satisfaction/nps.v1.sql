-- name: nps
-- version: 1
-- title: Net promoter score
-- category: satisfaction
-- unit: nps
-- description: 100 * (promoters (nps >= 9) - detractors (nps <= 6)) / responses with an nps, over the survey responses dated in the window.
-- requires: surveys
-- kind: ratio
-- scale: 100
-- numerator: count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)
-- denominator: count(nps)
SELECT customer_id, response_id, nps
FROM surveys
WHERE survey_date >= win_start AND survey_date < win_end
  AND nps IS NOT NULL
