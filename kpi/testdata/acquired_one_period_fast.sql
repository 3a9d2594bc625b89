WITH periods(period, win_start, win_end, prev_start) AS (VALUES (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)),
fast_signups AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT p.period, k.ckey, k.fine
    FROM fast_customer_keys k CROSS JOIN periods p
    WHERE k.dims.signup_date >= ?::DATE AND k.dims.signup_date < ?::DATE
) s
),
kpi_rows AS (
  SELECT p.period, k.* EXCLUDE (period) FROM periods p
  LEFT JOIN (SELECT * FROM (SELECT period, customer_id FROM fast_signups)) k ON true
)
SELECT CAST(count(customer_id) AS DOUBLE) AS value
FROM kpi_rows r