WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2023-10-01 00:00:00'), (DATE '2024-04-01', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-07-01', TIMESTAMP '2024-07-01 00:00:00', TIMESTAMP '2024-08-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00')),
fast_window AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT DATE '2024-01-01' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(sum(d.orders) AS BIGINT) AS w_orders, sum(d.amount) AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           CAST(sum(d.costed) AS BIGINT) AS w_costed, sum(d.costed_amount) AS w_costed_amount, sum(d.profit) AS w_profit,
           CAST(sum(d.delivery_known) AS BIGINT) AS w_delivery_known, CAST(sum(d.on_time) AS BIGINT) AS w_on_time,
           CAST(sum(d.returned) AS BIGINT) AS w_returned
    FROM fast_calendar d
    WHERE d.months = 1 AND d.pstart >= DATE '2024-01-01' AND d.pstart < DATE '2024-04-01'
    GROUP BY d.ckey
    UNION ALL
    SELECT DATE '2024-04-01' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(sum(d.orders) AS BIGINT) AS w_orders, sum(d.amount) AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           CAST(sum(d.costed) AS BIGINT) AS w_costed, sum(d.costed_amount) AS w_costed_amount, sum(d.profit) AS w_profit,
           CAST(sum(d.delivery_known) AS BIGINT) AS w_delivery_known, CAST(sum(d.on_time) AS BIGINT) AS w_on_time,
           CAST(sum(d.returned) AS BIGINT) AS w_returned
    FROM fast_calendar d
    WHERE d.months = 1 AND d.pstart >= DATE '2024-04-01' AND d.pstart < DATE '2024-07-01'
    GROUP BY d.ckey
    UNION ALL
    SELECT DATE '2024-07-01' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(sum(d.orders) AS BIGINT) AS w_orders, sum(d.amount) AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           CAST(sum(d.costed) AS BIGINT) AS w_costed, sum(d.costed_amount) AS w_costed_amount, sum(d.profit) AS w_profit,
           CAST(sum(d.delivery_known) AS BIGINT) AS w_delivery_known, CAST(sum(d.on_time) AS BIGINT) AS w_on_time,
           CAST(sum(d.returned) AS BIGINT) AS w_returned
    FROM fast_calendar d
    WHERE d.months = 1 AND d.pstart >= DATE '2024-07-01' AND d.pstart < DATE '2024-08-01'
    GROUP BY d.ckey
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0)) k
)
SELECT r.period AS period, d.__dim_0 AS "age", CAST((count(*) FILTER (WHERE orders >= 2)) / nullif(count(customer_id), 0) AS DOUBLE) AS value, count(*) FILTER (WHERE orders >= 2) AS numerator, count(customer_id) AS denominator
FROM kpi_rows r
LEFT JOIN (SELECT k.ckey AS __dim_key, k.dims."age" AS __dim_0 FROM fast_customer_keys k) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST