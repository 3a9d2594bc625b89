-- name: top20_revenue_share
-- version: 1
-- title: Top 20% customers' revenue share
-- category: sales
-- unit: ratio
-- description: Revenue of the top ceil(20%) of the active customers, ranked by their revenue in the window (ties by customer_id), / revenue.
-- description: Recomputed within every group and period, so by region it is the share of each region's own top 20%.
-- requires: orders
-- kind: ratio
-- numerator: coalesce(list_sum(list_slice(list(revenue ORDER BY revenue DESC, customer_id) FILTER (WHERE customer_id IS NOT NULL), 1, (count(customer_id) + 4) // 5)), 0)
-- denominator: coalesce(sum(revenue), 0)
SELECT customer_id, sum(amount) AS revenue
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
GROUP BY customer_id
