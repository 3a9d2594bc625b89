WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2023-12-25 00:00:00'), (DATE '2024-01-08', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-01-15', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-22 00:00:00', TIMESTAMP '2024-01-08 00:00:00')),
fast_activity_totals AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT DATE '2024-01-01' AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, NULL::INTEGER AS ckey, d.multi OR d.next_day < DATE '2024-01-08' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-01-01' AND day < DATE '2024-01-08') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-01-08' AND d.prev_day < DATE '2024-01-01'
      UNION ALL
      SELECT 1, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2023-12-25' AND d.day < DATE '2024-01-01' AND d.prev_day < DATE '2023-12-25'
      UNION ALL
      SELECT 2, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2023-12-25' AND d.day < DATE '2024-01-01' AND d.next_day >= DATE '2024-01-01' AND d.next_day < DATE '2024-01-08'
      UNION ALL
      SELECT 3, NULL::INTEGER, false, false, d.orders
      FROM fast_order_totals d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-01-08'
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT DATE '2024-01-08' AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, NULL::INTEGER AS ckey, d.multi OR d.next_day < DATE '2024-01-15' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-01-08' AND day < DATE '2024-01-15') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-01-08' AND d.day < DATE '2024-01-15' AND d.prev_day < DATE '2024-01-08'
      UNION ALL
      SELECT 1, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-01-08' AND d.prev_day < DATE '2024-01-01'
      UNION ALL
      SELECT 2, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-01-08' AND d.next_day >= DATE '2024-01-08' AND d.next_day < DATE '2024-01-15'
      UNION ALL
      SELECT 3, NULL::INTEGER, false, false, d.orders
      FROM fast_order_totals d WHERE d.day >= DATE '2024-01-08' AND d.day < DATE '2024-01-15'
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT DATE '2024-01-15' AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, NULL::INTEGER AS ckey, d.multi OR d.next_day < DATE '2024-01-22' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-01-15' AND day < DATE '2024-01-22') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-01-15' AND d.day < DATE '2024-01-22' AND d.prev_day < DATE '2024-01-15'
      UNION ALL
      SELECT 1, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-08' AND d.day < DATE '2024-01-15' AND d.prev_day < DATE '2024-01-08'
      UNION ALL
      SELECT 2, NULL::INTEGER, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-08' AND d.day < DATE '2024-01-15' AND d.next_day >= DATE '2024-01-15' AND d.next_day < DATE '2024-01-22'
      UNION ALL
      SELECT 3, NULL::INTEGER, false, false, d.orders
      FROM fast_order_totals d WHERE d.day >= DATE '2024-01-15' AND d.day < DATE '2024-01-22'
    ) x
    GROUP BY x.ckey
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