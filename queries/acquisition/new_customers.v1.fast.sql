-- source: fast_history_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the customers whose
-- first order falls in the window, counted per day.
-- A day without first orders (of the combination) adds no group.
-- value: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, firsts FROM fast_history_totals WHERE in_window AND firsts > 0
-- form
-- source: fast_history
-- max_periods: 4
-- Each period joins every customer's history: by month over a year (12
-- periods) the macro, which reads the first orders once, is faster.
-- h_first is the first order before the period's end: the first of all
-- history whenever it falls in the window.
SELECT h.period, h.customer_id
FROM fast_history h JOIN periods p USING (period)
WHERE h.h_first >= p.win_start
