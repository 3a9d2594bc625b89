-- source: fast_history
SELECT h.period, h.customer_id,
       h.h_first >= p.win_start AS is_new,
       h.h_first >= p.prev_start AND h.h_first < p.win_start AS was_new
FROM fast_history h JOIN periods p USING (period)
WHERE h.h_first >= p.prev_start
