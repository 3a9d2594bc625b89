-- source: fast_history
SELECT period, customer_id, h_amount AS revenue FROM fast_history
