WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2023-12-25 00:00:00'), (DATE '2024-01-08', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-01-15', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-22 00:00:00', TIMESTAMP '2024-01-08 00:00:00'), (DATE '2024-01-22', TIMESTAMP '2024-01-22 00:00:00', TIMESTAMP '2024-01-29 00:00:00', TIMESTAMP '2024-01-15 00:00:00'), (DATE '2024-01-29', TIMESTAMP '2024-01-29 00:00:00', TIMESTAMP '2024-02-05 00:00:00', TIMESTAMP '2024-01-22 00:00:00'), (DATE '2024-02-05', TIMESTAMP '2024-02-05 00:00:00', TIMESTAMP '2024-02-12 00:00:00', TIMESTAMP '2024-01-29 00:00:00')),
fast_activity_totals AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT x.period, x.ckey,
           CAST(count(*) FILTER (WHERE x.active) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.prev_active) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.retained) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.active AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.active AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT m.period, NULL::INTEGER AS ckey,
             d.day >= m.ws AND d.prev_day < m.ws AS active,
             d.day < m.ws AND d.prev_day < m.ps AS prev_active,
             d.day < m.ws AND d.next_day >= m.ws AND d.next_day < m.we AS retained,
             d.multi OR d.next_day < m.we AS repeats,
             false AS complained, NULL::BIGINT AS n
      FROM fast_order_links d JOIN (SELECT x.day, p.period, CAST(p.prev_start AS DATE) AS ps, CAST(p.win_start AS DATE) AS ws, CAST(p.win_end AS DATE) AS we
      FROM (SELECT CAST(unnest(range(min(prev_start), max(win_end), INTERVAL 1 DAY)) AS DATE) AS day FROM periods) x
      JOIN periods p ON x.day >= p.prev_start AND x.day < p.win_end) m ON d.day = m.day 
      WHERE d.day >= DATE '2023-12-25' AND d.day < DATE '2024-02-12'
      UNION ALL
      SELECT m.period, NULL::INTEGER, false, false, false, false, false, d.orders
      FROM fast_order_totals d JOIN (SELECT x.day, p.period, CAST(p.prev_start AS DATE) AS ps, CAST(p.win_start AS DATE) AS ws, CAST(p.win_end AS DATE) AS we
      FROM (SELECT CAST(unnest(range(min(prev_start), max(win_end), INTERVAL 1 DAY)) AS DATE) AS day FROM periods) x
      JOIN periods p ON x.day >= p.prev_start AND x.day < p.win_end) m ON d.day = m.day AND d.day >= m.ws
    ) x
    GROUP BY x.period, x.ckey
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT * FROM (SELECT period, customer_id, prev_active, retained FROM fast_activity_totals))
  UNION ALL BY NAME SELECT period FROM periods) k
)
SELECT r.period AS period, CAST((CAST(coalesce(sum(prev_active - retained), 0) AS BIGINT)) / nullif(CAST(coalesce(sum(prev_active), 0) AS BIGINT), 0) AS DOUBLE) AS value, CAST(coalesce(sum(prev_active - retained), 0) AS BIGINT) AS numerator, CAST(coalesce(sum(prev_active), 0) AS BIGINT) AS denominator
FROM kpi_rows r
GROUP BY 1
ORDER BY 1 NULLS LAST