-- name: social_engagement_rate
-- version: 1
-- title: Social engagement rate
-- category: engagement
-- unit: ratio
-- description: Social events in the window of type like, comment or share / of type impression.
-- requires: events
-- kind: ratio
-- numerator: count(*) FILTER (WHERE event_type IN ('like', 'comment', 'share'))
-- denominator: count(*) FILTER (WHERE event_type = 'impression')
SELECT customer_id, event_type
FROM events
WHERE channel = 'social' AND event_type IN ('impression', 'like', 'comment', 'share')
  AND event_at >= win_start AND event_at < win_end
