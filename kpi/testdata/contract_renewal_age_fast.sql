WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2023-12-01 00:00:00'), (DATE '2024-02-01', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-03-01', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00')),
fast_contracts AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT p.period, d.ckey, d.fine, d.contract_id, d.renewed
    FROM fast_contract_rows d JOIN (SELECT x.day, p.period, p.win_start
      FROM (SELECT CAST(unnest(range(min(win_start), max(win_end), INTERVAL 1 DAY)) AS DATE) AS day FROM periods) x
      JOIN periods p ON x.day >= p.win_start AND x.day < p.win_end) p ON d.day = p.day
    WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-04-01'
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, contract_id, renewed FROM fast_contracts)) k
)
SELECT r.period AS period, d.__dim_0 AS "age", CAST((count(*) FILTER (WHERE renewed)) / nullif(count(contract_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE renewed) AS numerator, count(contract_id) AS denominator
FROM kpi_rows r
LEFT JOIN (SELECT k.ckey AS __dim_key, k.dims."age" AS __dim_0 FROM fast_customer_keys k) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST