WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2023-08-01', TIMESTAMP '2023-08-01 00:00:00', TIMESTAMP '2024-08-01 00:00:00', TIMESTAMP '2022-07-31 00:00:00')),
kpi_rows AS (
  SELECT p.period, k.* FROM periods p
  JOIN (SELECT * FROM kpi_churn_rate_v1(TIMESTAMP '2023-08-01 00:00:00', TIMESTAMP '2024-08-01 00:00:00', TIMESTAMP '2022-07-31 00:00:00') WHERE customer_id IN (SELECT f.customer_id FROM customer_features f WHERE (f.monetary > ?))) k ON true
)
SELECT t0.__tier AS "tier:value_tiers", CAST((count(*) FILTER (WHERE in_prev AND NOT in_window)) / nullif(count(*) FILTER (WHERE in_prev), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE in_prev AND NOT in_window) AS numerator, count(*) FILTER (WHERE in_prev) AS denominator
FROM kpi_rows r
LEFT JOIN (SELECT customer_id AS __tier_key, tier AS __tier FROM tier_assignments WHERE evaluation = 42::BIGINT) t0 ON t0.__tier_key = r.customer_id
GROUP BY 1
ORDER BY 1 NULLS LAST