-- source: fast_cohorts
-- The macro's cells, a row per cohort member and month from their
-- cohort's to the one holding the window's end, from each customer's
-- first day and sorted day list rather than from every order before the
-- window's end.
SELECT period, customer_id, cohort, month_offset, active FROM fast_cohorts
