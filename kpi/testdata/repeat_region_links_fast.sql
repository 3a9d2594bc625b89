WITH periods(period, win_start, win_end, prev_start) AS (VALUES (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP), (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP), (?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)),
fast_activity_totals AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT ?::DATE AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < ?::DATE AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= ?::DATE AND day < ?::DATE) c ON c.ckey = d.ckey
      WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.next_day >= ?::DATE AND d.next_day < ?::DATE
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= ?::DATE AND d.day < ?::DATE
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT ?::DATE AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < ?::DATE AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= ?::DATE AND day < ?::DATE) c ON c.ckey = d.ckey
      WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.next_day >= ?::DATE AND d.next_day < ?::DATE
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= ?::DATE AND d.day < ?::DATE
    ) x
    GROUP BY x.ckey
    UNION ALL
    SELECT ?::DATE AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, d.combo AS ckey, d.multi OR d.next_day < ?::DATE AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= ?::DATE AND day < ?::DATE) c ON c.ckey = d.ckey
      WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 1, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.prev_day < ?::DATE
      UNION ALL
      SELECT 2, d.combo, false, false, NULL
      FROM fast_order_links d WHERE d.day >= ?::DATE AND d.day < ?::DATE AND d.next_day >= ?::DATE AND d.next_day < ?::DATE
      UNION ALL
      SELECT 3, d.ckey, false, false, d.orders
      FROM fast_order_totals_by d WHERE d.day >= ?::DATE AND d.day < ?::DATE
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