-- source: fast_score_counts
-- Without a customer filter, and by customer dimensions of the
-- combinations only (the scorecard, a grain, by region; by an age, or
-- one tier, over whole calendar periods): the number of each (attribute,
-- score) per day, or per calendar period, of every customer or per
-- combination of those dimensions (or tier), summed over the window, so the same sums of integers over
-- the same counts as below, without reading a response. Each row counts
-- its n responses (count: n), grouped per group, attribute and weight
-- as the per-response form's rows: by age by month over 2024 at 1M
-- customers, the per-period rows of the finer combinations took 416 ms
-- with the lists this form built per group before, 17 ms so.
-- counted: attribute, weight
-- summed: score
-- count: n
-- numerator: coalesce(sum(weight * (score / n - 1) / 4) FILTER (WHERE attribute IS NOT NULL), 0)
-- denominator: coalesce(sum(weight) FILTER (WHERE attribute IS NOT NULL), 0)
SELECT s.period, s.customer_id, s.attribute, s.score, s.n,
       CASE WHEN w.equal THEN 1.0::DOUBLE ELSE coalesce(w.by_column[s.attribute], 0.0::DOUBLE) END AS weight
FROM fast_score_counts s, (
    SELECT NOT contains(weights, ':') AS equal,
           map_from_entries(list_transform(
               list_filter(string_split(weights, ','), p -> contains(p, ':')),
               p -> {'k': trim(split_part(p, ':', 1)), 'v': CAST(trim(split_part(p, ':', 2)) AS DOUBLE)})) AS by_column
    FROM fast_params) w
-- form
-- source: fast_scores
-- The definition's rows, weighted as it weights them, grouped by the
-- planner per group, attribute and weight (counted), each with the sum of
-- its scores and their number (n): the numerator adds each attribute's
-- weighted mean less one over four, as the definition's does from its
-- lists, with plain aggregates. (Counting the rows inside the aggregate
-- with histogram, then filtering lists per group, took 0.76-0.83 s
-- against 0.48-0.51 s counted per score at 1M customers by age by week
-- over 2024; by signup date by day over March, 16,161 groups, the lists
-- took 132-171 ms against 77-87 ms for these sums.)
-- counted: attribute, weight
-- summed: score
-- numerator: coalesce(sum(weight * (score / n - 1) / 4) FILTER (WHERE attribute IS NOT NULL), 0)
-- denominator: coalesce(sum(weight) FILTER (WHERE attribute IS NOT NULL), 0)
SELECT s.period, s.customer_id, s.attribute, s.score,
       CASE WHEN w.equal THEN 1.0::DOUBLE ELSE coalesce(w.by_column[s.attribute], 0.0::DOUBLE) END AS weight
FROM fast_scores s, (
    SELECT NOT contains(weights, ':') AS equal,
           map_from_entries(list_transform(
               list_filter(string_split(weights, ','), p -> contains(p, ':')),
               p -> {'k': trim(split_part(p, ':', 1)), 'v': CAST(trim(split_part(p, ':', 2)) AS DOUBLE)})) AS by_column
    FROM fast_params) w
