-- source: fast_history_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): a customer's last order
-- day before the end is their first plus their gaps until then, so the
-- sum of their days to the end is, over the days before it, each first
-- order's days to the end less the gaps ending that day. Integers: the
-- same sum.
-- numerator: coalesce(sum(firsts * days_to_end - gap_days), 0)
-- denominator: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, firsts, gap_days, days_to_end FROM fast_history_totals
-- form
-- source: fast_history_ends
-- Over whole calendar periods, by customer dimensions of the finer
-- combinations only (an age), by one wide dimension (a signup date) or
-- by one tier: the state at each period's end,
-- kept per end and group when the tables were built: the customers with an
-- order before it and the sum of their days since their last one
-- (integers: the same sums).
-- numerator: coalesce(sum(days_sum), 0)
-- denominator: CAST(coalesce(sum(customers), 0) AS BIGINT)
SELECT period, customer_id, customers, days_sum FROM fast_history_ends
-- form
-- source: fast_history
SELECT h.period, h.customer_id, date_diff('day', CAST(h.h_last AS DATE), CAST(p.win_end AS DATE)) AS days
FROM fast_history h JOIN periods p USING (period)
