-- source: fast_history_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the revenue before the
-- end summed per day, over the customers with an order before it.
-- denominator: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, amount AS revenue, firsts FROM fast_history_totals
-- form
-- source: fast_history_ends
-- Over whole calendar periods, by customer dimensions of the finer
-- combinations only (an age), by one wide dimension (a signup date) or
-- by one tier: the state at each period's end,
-- kept per end and group when the tables were built: the customers with an
-- order before it and their revenue.
-- denominator: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, amount AS revenue, customers AS firsts FROM fast_history_ends
-- form
-- source: fast_history
SELECT period, customer_id, h_amount AS revenue FROM fast_history
