-- source: fast_days
SELECT d.period, d.customer_id,
       date_diff('day', d.last_day, CAST(p.win_end AS DATE)) > f.cycle_multiplier * d.median_gap AS flagged
FROM fast_days d JOIN periods p USING (period), fast_params f
WHERE d.n_days >= 3
