-- source: fast_events
-- Calendar periods only: the counts per customer of fast_event_calendar.
-- numerator: CAST(coalesce(sum(engaged), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(impressions), 0) AS BIGINT)
SELECT period, customer_id, social_engaged AS engaged, social_impression AS impressions FROM fast_events WHERE social_engaged > 0 OR social_impression > 0
