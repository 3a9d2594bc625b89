-- name: avg_resolution_hours
-- version: 1
-- title: Average resolution time (hours)
-- category: satisfaction
-- unit: hours
-- description: Mean hours from opened_at to resolved_at over the tickets opened in the window that are resolved.
-- requires: tickets
-- kind: ratio
-- direction: lower_is_better
-- numerator: coalesce(sum(hours), 0)
-- denominator: count(hours)
SELECT customer_id, ticket_id, epoch(resolved_at - opened_at) / 3600.0 AS hours
FROM tickets
WHERE opened_at >= win_start AND opened_at < win_end
  AND resolved_at IS NOT NULL
