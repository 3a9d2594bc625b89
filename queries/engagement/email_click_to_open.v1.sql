-- name: email_click_to_open
-- version: 1
-- title: Email click-to-open rate
-- category: engagement
-- unit: ratio
-- description: Email events in the window of type click / of type open.
-- requires: events
-- kind: ratio
-- numerator: count(*) FILTER (WHERE event_type = 'click')
-- denominator: count(*) FILTER (WHERE event_type = 'open')
SELECT customer_id, event_type
FROM events
WHERE channel = 'email' AND event_type IN ('open', 'click')
  AND event_at >= win_start AND event_at < win_end
