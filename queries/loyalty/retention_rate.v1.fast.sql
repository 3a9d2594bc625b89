-- source: fast_activity
-- max_periods: 2
-- A window and its previous one (or a comparison): from the day lists.
SELECT period, customer_id, p_active AS in_prev, w_active AS in_window FROM fast_activity WHERE p_active OR w_active
-- form
-- Any number of periods: from the days grouped per period.
-- source: fast_orders
SELECT period, customer_id, p_orders > 0 AS in_prev, w_orders > 0 AS in_window FROM fast_orders WHERE p_orders > 0 OR w_orders > 0
