-- source: fast_event_totals
-- Without a customer filter, or by few-valued customer dimensions only:
-- the same counts per day, of every customer or per combination of those
-- dimensions, for any window.
-- numerator: CAST(coalesce(sum(engaged), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(impressions), 0) AS BIGINT)
SELECT period, customer_id, social_engaged AS engaged, social_impression AS impressions FROM fast_event_totals WHERE social_engaged > 0 OR social_impression > 0
-- form
-- source: fast_events
-- rows: days
-- The counts of each customer's events in each period's window, from
-- fast_event_rows (a row per event).
-- numerator: CAST(coalesce(sum(engaged), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(impressions), 0) AS BIGINT)
SELECT period, customer_id, social_engaged AS engaged, social_impression AS impressions FROM fast_events WHERE social_engaged > 0 OR social_impression > 0
