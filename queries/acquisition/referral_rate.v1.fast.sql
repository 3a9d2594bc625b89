-- source: fast_referrals
-- Any window: the customers who signed up in each period's window and
-- whether they were referred, their signup days paired with the periods'
-- days rather than every customer's date compared with every period's
-- bounds.
SELECT period, customer_id, referred FROM fast_referrals
