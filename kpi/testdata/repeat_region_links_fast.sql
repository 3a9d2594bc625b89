WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2023-10-01 00:00:00'), (DATE '2024-04-01', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-07-01', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2024-08-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00')),
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
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < DATE '2024-04-01' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-01-01' AND day < DATE '2024-04-01') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-04-01' AND d.prev_day < DATE '2024-01-01'
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2023-10-01' AND d.day < DATE '2024-01-01' AND d.prev_day < DATE '2023-10-01'
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2023-10-01' AND d.day < DATE '2024-01-01' AND d.next_day >= DATE '2024-01-01' AND d.next_day < DATE '2024-04-01'
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-04-01'
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT DATE '2024-04-01' AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < DATE '2024-07-01' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-04-01' AND day < DATE '2024-07-01') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-04-01' AND d.day < DATE '2024-07-01' AND d.prev_day < DATE '2024-04-01'
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-04-01' AND d.prev_day < DATE '2024-01-01'
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-01-01' AND d.day < DATE '2024-04-01' AND d.next_day >= DATE '2024-04-01' AND d.next_day < DATE '2024-07-01'
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= DATE '2024-04-01' AND d.day < DATE '2024-07-01'
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT DATE '2024-07-01' AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < DATE '2024-08-01' AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= DATE '2024-07-01' AND day < DATE '2024-08-01') c ON c.ckey = d.ckey
      WHERE d.day >= DATE '2024-07-01' AND d.day < DATE '2024-08-01' AND d.prev_day < DATE '2024-07-01'
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-04-01' AND d.day < DATE '2024-07-01' AND d.prev_day < DATE '2024-04-01'
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= DATE '2024-04-01' AND d.day < DATE '2024-07-01' AND d.next_day >= DATE '2024-07-01' AND d.next_day < DATE '2024-08-01'
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= DATE '2024-07-01' AND d.day < DATE '2024-08-01'
    ) x
    GROUP BY x.ckey
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, repeaters, active FROM fast_activity_totals WHERE active > 0)) k
)
SELECT r.period AS period, d.__dim_0[r.customer_id] AS "region", CAST((CAST(coalesce(sum(repeaters), 0) AS BIGINT)) / nullif(CAST(coalesce(sum(active), 0) AS BIGINT), 0) AS DOUBLE) AS value, CAST(coalesce(sum(repeaters), 0) AS BIGINT) AS numerator, CAST(coalesce(sum(active), 0) AS BIGINT) AS denominator
FROM kpi_rows r
CROSS JOIN (SELECT list(k.dims."region" ORDER BY k.ckey) AS __dim_0 FROM fast_dim_combos k) d
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST