-- name: first_response_hours_p90
-- version: 1
-- title: First response time, p90 (hours)
-- category: satisfaction
-- unit: hours
-- description: The 0.9 quantile (quantile_cont) of the hours from opened_at to first_response_at over the tickets opened in the window that have a first response.
-- requires: tickets
-- kind: statistic
-- direction: lower_is_better
-- value: quantile_cont(hours, 0.9)
SELECT customer_id, ticket_id, epoch(first_response_at - opened_at) / 3600.0 AS hours
FROM tickets
WHERE opened_at >= win_start AND opened_at < win_end
  AND first_response_at IS NOT NULL
