-- source: fast_history
SELECT h.period, h.customer_id,
       date_diff('day', h.h_last, CAST(p.win_end AS DATE)) > f.cycle_multiplier * h.median_gap AS flagged
FROM fast_history h JOIN periods p USING (period), fast_params f
WHERE h.n_days >= 3
