-- source: fast_first_ends
-- Over whole calendar periods, by customer dimensions of the finer
-- combinations only (an age), by one wide dimension (a signup date) or
-- by one tier: each group's customers with an order before the window's
-- end less those with one before its start, kept per month and group
-- when the tables were built (by signup date over 2024 at 1M customers
-- the first order days paired with the days of the periods took 48 ms).
-- A group without first orders in the window adds no group.
-- value: CAST(coalesce(sum(firsts), 0) AS BIGINT)
SELECT period, customer_id, w_firsts AS firsts FROM fast_first_ends WHERE w_firsts > 0
-- form
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
