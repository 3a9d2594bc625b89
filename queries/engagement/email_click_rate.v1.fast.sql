-- source: fast_event_totals
-- Without a customer filter, or by few-valued customer dimensions only:
-- the same counts per day, of every customer or per combination of those
-- dimensions, for any window.
-- numerator: CAST(coalesce(sum(clicks), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(sent), 0) AS BIGINT)
SELECT period, customer_id, email_click AS clicks, email_sent AS sent FROM fast_event_totals WHERE email_click > 0 OR email_sent > 0
-- form
-- source: fast_events
-- rows: days
-- The counts of each customer's events in each period's window, from
-- fast_event_rows (a row per event).
-- numerator: CAST(coalesce(sum(clicks), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(sent), 0) AS BIGINT)
SELECT period, customer_id, email_click AS clicks, email_sent AS sent FROM fast_events WHERE email_click > 0 OR email_sent > 0
