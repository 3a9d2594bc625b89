-- source: fast_events
-- Calendar periods only: the counts per customer of fast_event_calendar.
-- numerator: CAST(coalesce(sum(clicks), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(sent), 0) AS BIGINT)
SELECT period, customer_id, email_click AS clicks, email_sent AS sent FROM fast_events WHERE email_click > 0 OR email_sent > 0
