-- source: fast_events
-- Calendar periods only: the counts per customer of fast_event_calendar.
-- numerator: CAST(coalesce(sum(opens), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(sent), 0) AS BIGINT)
SELECT period, customer_id, email_open AS opens, email_sent AS sent FROM fast_events WHERE email_open > 0 OR email_sent > 0
