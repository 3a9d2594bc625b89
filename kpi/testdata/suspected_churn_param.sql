WITH periods(period, win_start, win_end, prev_start) AS (VALUES (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)),
kpi_rows AS (
  SELECT p.period, k.* FROM periods p
  LEFT JOIN (SELECT * FROM kpi_suspected_churn_rate_v1(?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP, cycle_multiplier := ?)) k ON true
)
SELECT CAST((count(*) FILTER (WHERE flagged)) / nullif(count(customer_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE flagged) AS numerator, count(customer_id) AS denominator
FROM kpi_rows r