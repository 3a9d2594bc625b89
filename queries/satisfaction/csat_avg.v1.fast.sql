-- source: fast_survey_totals
-- Without a customer filter, or by few-valued customer dimensions only:
-- the same counts per day, of every customer or per combination of those
-- dimensions, for any window.
-- numerator: coalesce(sum(csat), 0)
-- denominator: CAST(coalesce(sum(responses), 0) AS BIGINT)
SELECT period, customer_id, csat_sum AS csat, csat_responses AS responses FROM fast_survey_totals WHERE csat_responses > 0
-- form
-- source: fast_surveys
-- rows: days
-- The counts per customer of each period's window, from fast_survey_days.
-- numerator: coalesce(sum(csat), 0)
-- denominator: CAST(coalesce(sum(responses), 0) AS BIGINT)
SELECT period, customer_id, csat_sum AS csat, csat_responses AS responses FROM fast_surveys WHERE csat_responses > 0
