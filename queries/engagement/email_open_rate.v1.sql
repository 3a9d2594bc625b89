-- name: email_open_rate
-- version: 1
-- title: Email open rate
-- category: engagement
-- unit: ratio
-- description: Email events in the window of type open / of type sent.
-- requires: events
-- kind: ratio
-- numerator: count(*) FILTER (WHERE event_type = 'open')
-- denominator: count(*) FILTER (WHERE event_type = 'sent')
SELECT customer_id, event_type
FROM events
WHERE channel = 'email' AND event_type IN ('sent', 'open')
  AND event_at >= win_start AND event_at < win_end
