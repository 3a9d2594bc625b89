-- name: referral_rate
-- version: 1
-- title: Referral rate
-- category: acquisition
-- unit: ratio
-- description: Customers acquired in the window with a referrer (referred_by not null) / customers acquired in the window.
-- requires: customers, customers.referred_by
-- kind: ratio
-- numerator: count(*) FILTER (WHERE referred)
-- denominator: count(customer_id)
SELECT customer_id, referred_by IS NOT NULL AS referred
FROM customers
WHERE signup_date >= win_start AND signup_date < win_end
