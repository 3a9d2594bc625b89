WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-15', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-05-10 00:00:00', TIMESTAMP '2023-09-21 00:00:00')),
fast_signups AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT p.period, k.ckey, k.fine
    FROM fast_customer_keys k CROSS JOIN periods p
    WHERE k.dims.signup_date >= DATE '2024-01-15' AND k.dims.signup_date < DATE '2024-05-10'
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id FROM fast_signups)) k
)
SELECT CAST(count(customer_id) AS DOUBLE) AS value
FROM kpi_rows r