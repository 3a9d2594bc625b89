-- Per-customer features as of an instant (exclusive): the input of tier
-- rules and of the customer view (KPIS.md, "Per-customer features").
-- Orders, surveys, tickets and events strictly before as_of count.
CREATE OR REPLACE MACRO customer_features_at(as_of) AS TABLE
-- o and cust are materialized: an import rebuilds the features in the
-- transaction that wrote the orders and customers, and DuckDB scans a
-- table written in the open transaction on one thread; the aggregation
-- over the materialized rows, and the joins to the customers' and the
-- write of the table, run on all of them (at 1M demo customers, in such
-- a transaction: 3.7-4.1 s against 5.1-5.2 s with the customers read
-- as they are; committed, the same 3.0-3.3 s).
WITH cust AS MATERIALIZED (SELECT * FROM customers),
o AS MATERIALIZED (
    SELECT customer_id, order_date, amount, cost
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed' AND order_date < as_of
),
-- The aggregates of each customer's orders, and the gaps between their
-- consecutive distinct order days (in days, so a same-day order adds no
-- gap): the days are gathered in the same aggregation and their gaps taken
-- from the sorted list, which is cheaper than a window over all orders.
agg AS (
    SELECT * EXCLUDE (gaps),
           1 + len(gaps) AS distinct_days,
           list_median(gaps) AS median_gap_days,
           CAST(last_order_date AS DATE) AS last_day
    FROM (
        SELECT * EXCLUDE (days),
               list_filter(list_transform(days[2:], lambda d, i: date_diff('day', days[i], d)), lambda g: g > 0) AS gaps
        FROM (
            SELECT customer_id,
                   count(*) AS frequency,
                   sum(amount) AS monetary,
                   sum(amount - cost) FILTER (WHERE cost IS NOT NULL) AS profit,
                   min(order_date) AS first_order_date,
                   max(order_date) AS last_order_date,
                   count(*) FILTER (WHERE order_date >= as_of - INTERVAL 90 DAY) AS orders_last_90d,
                   coalesce(sum(amount) FILTER (WHERE order_date >= as_of - INTERVAL 365 DAY), 0) / 12.0 AS avg_monthly_spend,
                   list_sort(list(CAST(order_date AS DATE))) AS days
            FROM o
            GROUP BY customer_id
        )
    )
),
ranked AS (
    SELECT customer_id,
           ntile(5) OVER (ORDER BY date_diff('day', CAST(last_order_date AS DATE), CAST(as_of AS DATE)) DESC, customer_id) AS r_score,
           ntile(5) OVER (ORDER BY frequency, customer_id) AS f_score,
           ntile(5) OVER (ORDER BY monetary, customer_id) AS m_score,
           (row_number() OVER (ORDER BY monetary DESC, customer_id) - 1) / count(*) OVER () AS monetary_rank_pct,
           sum(monetary) OVER (ORDER BY monetary DESC, customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               / nullif(sum(monetary) OVER (), 0) AS monetary_cum_share
    FROM agg
),
srv AS (
    SELECT customer_id,
           avg(csat) AS csat_avg,
           arg_max(nps, survey_date) FILTER (WHERE nps IS NOT NULL) AS nps_last
    FROM surveys
    WHERE survey_date < as_of
    GROUP BY customer_id
),
tck AS (
    SELECT customer_id,
           count(*) AS tickets,
           count(*) FILTER (WHERE category = 'complaint') AS complaints
    FROM tickets
    WHERE opened_at < as_of
    GROUP BY customer_id
),
eml AS (
    SELECT customer_id,
           count(*) FILTER (WHERE event_type = 'open') / nullif(count(*) FILTER (WHERE event_type = 'sent'), 0) AS email_open_rate
    FROM events
    WHERE channel = 'email' AND event_at < as_of
    GROUP BY customer_id
)
SELECT c.*,
       CASE WHEN c.age IS NULL THEN NULL
            WHEN c.age < 25 THEN '<25'
            WHEN c.age < 35 THEN '25-34'
            WHEN c.age < 45 THEN '35-44'
            WHEN c.age < 55 THEN '45-54'
            ELSE '55+' END AS age_band,
       date_diff('day', CAST(agg.last_order_date AS DATE), CAST(as_of AS DATE)) AS recency_days,
       coalesce(agg.frequency, 0) AS frequency,
       coalesce(agg.monetary, 0) AS monetary,
       agg.monetary / agg.frequency AS avg_order_value,
       agg.profit,
       agg.first_order_date,
       agg.last_order_date,
       date_diff('day', c.signup_date, CAST(as_of AS DATE)) AS tenure_days,
       coalesce(agg.orders_last_90d, 0) AS orders_last_90d,
       agg.median_gap_days,
       coalesce(agg.distinct_days >= 3
                AND date_diff('day', agg.last_day, CAST(as_of AS DATE)) > 2 * agg.median_gap_days, false) AS suspected_churn,
       ranked.r_score,
       ranked.f_score,
       ranked.m_score,
       coalesce(agg.avg_monthly_spend, 0) AS avg_monthly_spend,
       ranked.monetary_rank_pct,
       ranked.monetary_cum_share,
       srv.csat_avg,
       srv.nps_last,
       coalesce(tck.complaints, 0) AS complaints,
       coalesce(tck.tickets, 0) AS tickets,
       eml.email_open_rate,
       clv.p_alive,
       clv.expected_purchases_90d,
       clv.clv_12m
FROM cust c
LEFT JOIN agg USING (customer_id)
LEFT JOIN ranked USING (customer_id)
LEFT JOIN srv USING (customer_id)
LEFT JOIN tck USING (customer_id)
LEFT JOIN eml USING (customer_id)
LEFT JOIN clv_scores clv USING (customer_id);

-- The customer dimensions a KPI row can be grouped by: every customers
-- column plus the age band. A macro, not a view, because a view freezes the
-- column list and customers may be re-imported with extra columns.
CREATE OR REPLACE MACRO customer_dims() AS TABLE
SELECT c.*,
       CASE WHEN c.age IS NULL THEN NULL
            WHEN c.age < 25 THEN '<25'
            WHEN c.age < 35 THEN '25-34'
            WHEN c.age < 45 THEN '35-44'
            WHEN c.age < 55 THEN '45-54'
            ELSE '55+' END AS age_band
FROM customers c;
