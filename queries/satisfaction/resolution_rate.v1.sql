-- name: resolution_rate
-- version: 1
-- title: Resolution rate
-- category: satisfaction
-- unit: ratio
-- description: Tickets opened in the window that are resolved (resolved_at not null) / tickets opened in the window.
-- requires: tickets
-- kind: ratio
-- numerator: count(*) FILTER (WHERE resolved)
-- denominator: count(ticket_id)
SELECT customer_id, ticket_id, resolved_at IS NOT NULL AS resolved
FROM tickets
WHERE opened_at >= win_start AND opened_at < win_end
