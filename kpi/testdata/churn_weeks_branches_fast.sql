WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2023-12-25 00:00:00'), (DATE '2024-01-08', TIMESTAMP '2024-01-08 00:00:00', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-01-15', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-01-22 00:00:00', TIMESTAMP '2024-01-08 00:00:00')),
fast_orders AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT DATE '2024-01-01' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(coalesce(sum(d.orders) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_orders,
           sum(d.amount) FILTER (WHERE d.in_window) AS w_amount,
           CAST(coalesce(sum(d.orders) FILTER (WHERE NOT (d.in_window)), 0) AS BIGINT) AS p_orders,
           CAST(coalesce(sum(d.costed) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_costed,
           sum(d.costed_amount) FILTER (WHERE d.in_window) AS w_costed_amount,
           sum(d.profit) FILTER (WHERE d.in_window) AS w_profit,
           CAST(coalesce(sum(d.delivery_known) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_delivery_known,
           CAST(coalesce(sum(d.on_time) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_on_time,
           CAST(coalesce(sum(d.returned) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_returned
    FROM (SELECT *, day >= DATE '2024-01-01' AS in_window FROM fast_order_days WHERE day >= DATE '2023-12-25' AND day < DATE '2024-01-08') d
    GROUP BY d.ckey
    UNION ALL
    SELECT DATE '2024-01-08' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(coalesce(sum(d.orders) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_orders,
           sum(d.amount) FILTER (WHERE d.in_window) AS w_amount,
           CAST(coalesce(sum(d.orders) FILTER (WHERE NOT (d.in_window)), 0) AS BIGINT) AS p_orders,
           CAST(coalesce(sum(d.costed) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_costed,
           sum(d.costed_amount) FILTER (WHERE d.in_window) AS w_costed_amount,
           sum(d.profit) FILTER (WHERE d.in_window) AS w_profit,
           CAST(coalesce(sum(d.delivery_known) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_delivery_known,
           CAST(coalesce(sum(d.on_time) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_on_time,
           CAST(coalesce(sum(d.returned) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_returned
    FROM (SELECT *, day >= DATE '2024-01-08' AS in_window FROM fast_order_days WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-15') d
    GROUP BY d.ckey
    UNION ALL
    SELECT DATE '2024-01-15' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(coalesce(sum(d.orders) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_orders,
           sum(d.amount) FILTER (WHERE d.in_window) AS w_amount,
           CAST(coalesce(sum(d.orders) FILTER (WHERE NOT (d.in_window)), 0) AS BIGINT) AS p_orders,
           CAST(coalesce(sum(d.costed) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_costed,
           sum(d.costed_amount) FILTER (WHERE d.in_window) AS w_costed_amount,
           sum(d.profit) FILTER (WHERE d.in_window) AS w_profit,
           CAST(coalesce(sum(d.delivery_known) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_delivery_known,
           CAST(coalesce(sum(d.on_time) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_on_time,
           CAST(coalesce(sum(d.returned) FILTER (WHERE d.in_window), 0) AS BIGINT) AS w_returned
    FROM (SELECT *, day >= DATE '2024-01-15' AS in_window FROM fast_order_days WHERE day >= DATE '2024-01-08' AND day < DATE '2024-01-22') d
    GROUP BY d.ckey
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, p_orders > 0 AS in_prev, w_orders > 0 AS in_window FROM fast_orders WHERE p_orders > 0 OR w_orders > 0)) k
)
SELECT r.period AS period, d.__dim_0 AS "age", CAST((count(*) FILTER (WHERE in_prev AND NOT in_window)) / nullif(count(*) FILTER (WHERE in_prev), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE in_prev AND NOT in_window) AS numerator, count(*) FILTER (WHERE in_prev) AS denominator
FROM kpi_rows r
LEFT JOIN (SELECT k.ckey AS __dim_key, k.dims."age" AS __dim_0 FROM fast_customer_keys k) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST