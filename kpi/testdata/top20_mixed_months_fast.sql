WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-15', TIMESTAMP '2024-01-15 00:00:00', TIMESTAMP '2024-05-10 00:00:00', TIMESTAMP '2023-09-21 00:00:00')),
fast_window AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT DATE '2024-01-15' AS period, d.ckey, any_value(d.fine) AS fine,
           CAST(sum(d.orders) AS BIGINT) AS w_orders, sum(d.amount) AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           CAST(sum(d.costed) AS BIGINT) AS w_costed, sum(d.costed_amount) AS w_costed_amount, sum(d.profit) AS w_profit,
           CAST(sum(d.delivery_known) AS BIGINT) AS w_delivery_known, CAST(sum(d.on_time) AS BIGINT) AS w_on_time,
           CAST(sum(d.returned) AS BIGINT) AS w_returned
    FROM (
      SELECT ckey, fine, orders, amount, costed, costed_amount, profit, delivery_known, on_time, returned FROM fast_order_days WHERE day >= DATE '2024-01-15' AND day < DATE '2024-02-01'
      UNION ALL
      SELECT ckey, fine, orders, amount, costed, costed_amount, profit, delivery_known, on_time, returned FROM fast_calendar WHERE months = 1 AND pstart >= DATE '2024-02-01' AND pstart < DATE '2024-05-01'
      UNION ALL
      SELECT ckey, fine, orders, amount, costed, costed_amount, profit, delivery_known, on_time, returned FROM fast_order_days WHERE day >= DATE '2024-05-01' AND day < DATE '2024-05-10'
    ) d
    GROUP BY d.ckey
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (SELECT period, customer_id, w_amount AS revenue FROM fast_window WHERE w_orders > 0)) k
)
SELECT CAST((coalesce(coalesce(list_sum(list_filter(list(revenue), lambda x: x > quantile_disc(revenue, 0.8))), 0) + ((count(customer_id) + 4) // 5 - len(list_filter(list(revenue), lambda x: x > quantile_disc(revenue, 0.8)))) * quantile_disc(revenue, 0.8), 0)) / nullif(coalesce(sum(revenue), 0), 0) AS DOUBLE) AS value, coalesce(coalesce(list_sum(list_filter(list(revenue), lambda x: x > quantile_disc(revenue, 0.8))), 0) + ((count(customer_id) + 4) // 5 - len(list_filter(list(revenue), lambda x: x > quantile_disc(revenue, 0.8)))) * quantile_disc(revenue, 0.8), 0) AS numerator, coalesce(sum(revenue), 0) AS denominator
FROM kpi_rows r