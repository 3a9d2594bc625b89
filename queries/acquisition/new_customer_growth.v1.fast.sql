-- source: fast_history_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the customers whose
-- first order falls in the window or the previous one, counted per day.
-- A day without first orders (of the combination) adds no group.
-- numerator: CAST(coalesce(sum(firsts) FILTER (WHERE in_window), 0) AS BIGINT) - CAST(coalesce(sum(firsts) FILTER (WHERE in_prev), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(firsts) FILTER (WHERE in_prev), 0) AS BIGINT)
SELECT period, customer_id, firsts, in_window, in_prev FROM fast_history_totals WHERE (in_window OR in_prev) AND firsts > 0
-- form
-- source: fast_history
-- max_periods: 4
-- Each period joins every customer's history: by month over a year (12
-- periods) the macro, which reads the first orders once, is faster.
SELECT h.period, h.customer_id,
       h.h_first >= p.win_start AS is_new,
       h.h_first >= p.prev_start AND h.h_first < p.win_start AS was_new
FROM fast_history h JOIN periods p USING (period)
WHERE h.h_first >= p.prev_start
