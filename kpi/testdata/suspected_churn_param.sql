WITH periods(period, win_start, win_end, prev_start) AS (VALUES (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)),
kpi_rows AS (
  SELECT p.period, k.* EXCLUDE (kpi_period__) FROM periods p
  LEFT JOIN (SELECT * FROM (SELECT ?::DATE AS kpi_period__, * FROM kpi_suspected_churn_rate_v1(?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP, cycle_multiplier := ?))) k ON k.kpi_period__ = p.period
)
SELECT CAST((count(*) FILTER (WHERE flagged)) / nullif(count(customer_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE flagged) AS numerator, count(customer_id) AS denominator
FROM kpi_rows r