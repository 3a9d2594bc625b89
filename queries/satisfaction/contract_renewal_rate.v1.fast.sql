-- source: fast_contracts
-- Any window: the contracts ending in each period's window, the macro's
-- rows, from the contracts keyed and sorted by the day they end, paired
-- with the periods' days rather than every contract's date compared with
-- every period's bounds.
SELECT period, customer_id, contract_id, renewed FROM fast_contracts
