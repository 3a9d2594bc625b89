-- source: fast_history
-- max_periods: 4
-- Each period joins every customer's history: by month over a year (12
-- periods) the macro, which reads the first orders once, is faster.
SELECT h.period, h.customer_id,
       h.h_first >= p.win_start AS is_new,
       h.h_first >= p.prev_start AND h.h_first < p.win_start AS was_new
FROM fast_history h JOIN periods p USING (period)
WHERE h.h_first >= p.prev_start
