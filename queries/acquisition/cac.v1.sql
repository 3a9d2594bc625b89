-- name: cac
-- version: 1
-- title: Customer acquisition cost
-- category: acquisition
-- unit: currency
-- description: Acquisition spend of the months in the window / customers acquired (signup_date) in the window.
-- description: By acquisition_channel (alias channel), the spend of that channel / the customers of that acquisition_channel.
-- requires: acquisition_spend, customers
-- kind: ratio
-- direction: lower_is_better
-- numerator: coalesce(sum(spend), 0)
-- denominator: count(customer_id)
-- dimensions: acquisition_channel
-- alias: channel=acquisition_channel
SELECT NULL::VARCHAR AS customer_id, channel AS acquisition_channel, spend
FROM acquisition_spend
WHERE month >= win_start AND month < win_end
UNION ALL
SELECT customer_id, acquisition_channel, NULL::DOUBLE AS spend
FROM customers
WHERE signup_date >= win_start AND signup_date < win_end
