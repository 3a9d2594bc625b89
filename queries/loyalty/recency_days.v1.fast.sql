-- source: fast_history
SELECT h.period, h.customer_id, date_diff('day', CAST(h.h_last AS DATE), CAST(p.win_end AS DATE)) AS days
FROM fast_history h JOIN periods p USING (period)
