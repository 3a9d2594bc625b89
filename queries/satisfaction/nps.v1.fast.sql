-- source: fast_survey_totals
-- Without a customer filter, or by few-valued customer dimensions only:
-- the same counts per day, of every customer or per combination of those
-- dimensions, for any window.
-- numerator: CAST(coalesce(sum(promoters), 0) - coalesce(sum(detractors), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(responses), 0) AS BIGINT)
SELECT period, customer_id, nps_promoters AS promoters, nps_detractors AS detractors, nps_responses AS responses FROM fast_survey_totals WHERE nps_responses > 0
-- form
-- source: fast_surveys
-- rows: days
-- The counts per customer of each period's window, from fast_survey_days.
-- numerator: CAST(coalesce(sum(promoters), 0) - coalesce(sum(detractors), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(responses), 0) AS BIGINT)
SELECT period, customer_id, nps_promoters AS promoters, nps_detractors AS detractors, nps_responses AS responses FROM fast_surveys WHERE nps_responses > 0
