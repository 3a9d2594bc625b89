-- source: fast_window
-- The sum of the top fifth's revenues does not depend on how ties are
-- ranked, so sorting the revenues alone gives the definition's numerator
-- (the same values, added in the same order), without sorting by
-- customer too.
-- numerator: coalesce(list_sum(list_slice(list_sort(list(revenue) FILTER (WHERE customer_id IS NOT NULL), 'DESC'), 1, (count(customer_id) + 4) // 5)), 0)
SELECT period, customer_id, w_amount AS revenue FROM fast_window WHERE w_orders > 0
