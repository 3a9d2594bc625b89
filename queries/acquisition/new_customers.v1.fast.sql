-- source: fast_history_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the customers whose
-- first order falls in the window, counted per day.
-- A day without first orders (of the combination) adds no group.
-- value: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, firsts FROM fast_history_totals WHERE in_window AND firsts > 0
-- form
-- source: fast_first_orders
-- Filtered by customer or by a many-valued dimension: each customer's
-- first order day, paired with the periods' days.
SELECT period, customer_id FROM fast_first_orders WHERE in_window
