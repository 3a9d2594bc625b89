-- name: contract_renewal_rate
-- version: 1
-- title: Contract renewal rate
-- category: satisfaction
-- unit: ratio
-- description: Contracts ending (end_date) in the window that were renewed / contracts ending in the window.
-- requires: contracts
-- kind: ratio
-- numerator: count(*) FILTER (WHERE renewed)
-- denominator: count(contract_id)
SELECT customer_id, contract_id, renewed
FROM contracts
WHERE end_date >= win_start AND end_date < win_end
