-- source: fast_suspect_totals
-- params: default
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them), with the default multiplier:
-- the customers eligible and flagged at the period's end, as changes
-- per day summed over the days before it (fast_suspect_per_day_by, built
-- from each customer's days and the median gap up to each).
-- numerator: CAST(coalesce(sum(flagged), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(eligible), 0) AS BIGINT)
SELECT period, customer_id, flagged, eligible FROM fast_suspect_totals
-- form
-- source: fast_history_ends
-- params: default
-- Over whole calendar periods, by customer dimensions of the finer
-- combinations only (an age), by one wide dimension (a signup date) or
-- by one tier: the state at each period's end,
-- kept per end and group when the tables were built, at the default multiplier: the
-- customers eligible and flagged (a group without any has no row).
-- numerator: CAST(coalesce(sum(flagged), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(eligible), 0) AS BIGINT)
SELECT period, customer_id, flagged, eligible FROM fast_history_ends WHERE eligible > 0
-- form
-- source: fast_history
SELECT h.period, h.customer_id,
       date_diff('day', h.h_last, CAST(p.win_end AS DATE)) > f.cycle_multiplier * h.median_gap AS flagged
FROM fast_history h JOIN periods p USING (period), fast_params f
WHERE h.n_days >= 3
