WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2023-07-03 00:00:00')),
kpi_rows AS (
  SELECT p.period, k.* FROM periods p
  LEFT JOIN (SELECT * FROM kpi_suspected_churn_rate_v1(TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2023-07-03 00:00:00', cycle_multiplier := ?)) k ON true
)
SELECT CAST((count(*) FILTER (WHERE flagged)) / nullif(count(customer_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE flagged) AS numerator, count(customer_id) AS denominator
FROM kpi_rows r