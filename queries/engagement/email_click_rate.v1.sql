-- name: email_click_rate
-- version: 1
-- title: Email click rate
-- category: engagement
-- unit: ratio
-- description: Email events in the window of type click / of type sent.
-- requires: events
-- kind: ratio
-- numerator: count(*) FILTER (WHERE event_type = 'click')
-- denominator: count(*) FILTER (WHERE event_type = 'sent')
SELECT customer_id, event_type
FROM events
WHERE channel = 'email' AND event_type IN ('sent', 'click')
  AND event_at >= win_start AND event_at < win_end
