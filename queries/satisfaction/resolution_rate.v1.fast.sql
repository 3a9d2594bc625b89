-- source: fast_ticket_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the tickets opened per day and
-- how many of them are resolved, at any window. Every row has a ticket.
-- numerator: CAST(coalesce(sum(resolved), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(tickets), 0) AS BIGINT)
SELECT period, customer_id, tickets, resolved FROM fast_ticket_totals
-- form
-- source: fast_tickets
-- Filtered by customer or by a many-valued dimension: the tickets
-- themselves, keyed, the macro's rows.
SELECT period, customer_id, ticket_id, resolved FROM fast_tickets
