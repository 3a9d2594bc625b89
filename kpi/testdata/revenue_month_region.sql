WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2023-12-01 00:00:00'), (DATE '2024-02-01', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-03-01', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00')),
kpi_rows AS (
  SELECT p.period, k.* FROM periods p
  JOIN LATERAL (SELECT * FROM kpi_revenue_v1(p.win_start, p.win_end, p.prev_start)) k ON true
)
SELECT r.period AS period, d.__dim_0 AS "region", CAST(round(coalesce(sum(amount), 0), 2) AS DOUBLE) AS value
FROM kpi_rows r
LEFT JOIN (SELECT customer_id AS __dim_key, "region" AS __dim_0 FROM customer_dims()) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST