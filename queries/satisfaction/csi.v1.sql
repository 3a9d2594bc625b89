-- name: csi
-- version: 1
-- title: Customer satisfaction index
-- category: satisfaction
-- unit: index
-- description: 100 * ((sum_i w_i * mean_i) / sum_i w_i - 1) / 4 over the survey responses dated in the window, where mean_i is the mean of the non-null values of the score_* column i.
-- description: weights is a list like score_a:0.4,score_b:0.6 (a column it does not name weighs 0); the default, or any value without a colon, weighs every score_* column 1.
-- description: A column without any value in a group is left out of both sums. The means are recomputed per group and period. The numerator is sum_i w_i * (mean_i - 1) / 4.
-- requires: surveys, surveys.score_*
-- kind: ratio
-- scale: 100
-- param: weights weights equal
-- numerator: coalesce(list_transform([list({'a': attribute, 's': score, 'w': weight}) FILTER (WHERE attribute IS NOT NULL)], l -> list_sum(list_transform(list_distinct(list_transform(l, x -> {'a': x.a, 'w': x.w})), p -> p.w * (list_avg(list_transform(list_filter(l, x -> x.a = p.a), x -> x.s)) - 1) / 4)))[1], 0)
-- denominator: coalesce(list_sum(list_transform(list_distinct(list({'a': attribute, 'w': weight}) FILTER (WHERE attribute IS NOT NULL)), p -> p.w)), 0)
WITH weighting AS (
    -- weights parsed into a map column name -> weight; no colon means equal.
    SELECT NOT contains(weights, ':') AS equal,
           map_from_entries(list_transform(
               list_filter(string_split(weights, ','), p -> contains(p, ':')),
               p -> {'k': trim(split_part(p, ':', 1)), 'v': CAST(trim(split_part(p, ':', 2)) AS DOUBLE)})) AS by_column
),
-- One row per response and non-null score_* value. The score_* columns vary
-- by import, so they are unpivoted with COLUMNS('^score_'); the NULL column
-- score__placeholder keeps that pattern matching on the canonical table (which has
-- no score_* column, and the macro is bound against it), and UNPIVOT drops
-- its nulls.
scores AS (
    UNPIVOT (
        SELECT customer_id, response_id, COLUMNS('^score_')
        FROM (SELECT *, NULL::INTEGER AS score__placeholder FROM surveys)
        WHERE survey_date >= win_start AND survey_date < win_end
    ) ON COLUMNS('^score_') INTO NAME attribute VALUE score
)
SELECT s.customer_id, s.response_id, s.attribute, s.score,
       CASE WHEN w.equal THEN 1.0::DOUBLE ELSE coalesce(w.by_column[s.attribute], 0.0::DOUBLE) END AS weight
FROM scores s, weighting w
WHERE s.attribute <> 'score__placeholder'
