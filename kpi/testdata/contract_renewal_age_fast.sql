WITH periods(period, win_start, win_end, prev_start) AS (VALUES (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP), (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP), (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)),
fast_contracts AS (
  
    SELECT p.period, c.customer_id, c.contract_id, c.renewed
    FROM contracts c JOIN (SELECT x.day, p.period, p.win_start
      FROM (SELECT CAST(unnest(range(min(win_start), max(win_end), INTERVAL 1 DAY)) AS DATE) AS day FROM periods) x
      JOIN periods p ON x.day >= p.win_start AND x.day < p.win_end) p ON c.end_date = p.day
    WHERE c.end_date >= ?::DATE AND c.end_date < ?::DATE

),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, contract_id, renewed FROM fast_contracts)) k
)
SELECT r.period AS period, d.__dim_0 AS "age", CAST((count(*) FILTER (WHERE renewed)) / nullif(count(contract_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE renewed) AS numerator, count(contract_id) AS denominator
FROM kpi_rows r
LEFT JOIN (SELECT customer_id AS __dim_key, "age" AS __dim_0 FROM customer_dims()) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST