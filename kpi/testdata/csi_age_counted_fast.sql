WITH periods(period, win_start, win_end, prev_start) AS (VALUES (DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2023-12-01 00:00:00'), (DATE '2024-02-01', TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00'), (DATE '2024-03-01', TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00')),
fast_scores AS (
  SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (
    SELECT period, ckey, fine, attribute, score FROM (
      UNPIVOT (
        SELECT p.period, k.ckey, k.fine, COLUMNS('^score_')
        FROM (SELECT *, NULL::INTEGER AS score__placeholder FROM surveys) s
        JOIN periods p ON s.survey_date >= p.win_start AND s.survey_date < p.win_end
        JOIN fast_customer_keys k USING (customer_id)
        WHERE s.survey_date >= TIMESTAMP '2024-01-01 00:00:00' AND s.survey_date < TIMESTAMP '2024-04-01 00:00:00'
      ) ON COLUMNS('^score_') INTO NAME attribute VALUE score
    ) WHERE attribute <> 'score__placeholder'
) s
),
kpi_rows AS (
  SELECT k.period, k.* EXCLUDE (period) FROM (WITH fast_params AS (SELECT ?::VARCHAR AS "weights")
SELECT * FROM (SELECT s.period, s.customer_id, s.attribute, s.score,
       CASE WHEN w.equal THEN 1.0::DOUBLE ELSE coalesce(w.by_column[s.attribute], 0.0::DOUBLE) END AS weight
FROM fast_scores s, (
    SELECT NOT contains(weights, ':') AS equal,
           map_from_entries(list_transform(
               list_filter(string_split(weights, ','), p -> contains(p, ':')),
               p -> {'k': trim(split_part(p, ':', 1)), 'v': CAST(trim(split_part(p, ':', 2)) AS DOUBLE)})) AS by_column
    FROM fast_params) w)) k
)
SELECT r.period AS period, r."age" AS "age", CAST(100 * (coalesce(sum(weight * (score / n - 1) / 4) FILTER (WHERE attribute IS NOT NULL), 0)) / nullif(coalesce(sum(weight) FILTER (WHERE attribute IS NOT NULL), 0), 0) AS DOUBLE) AS value, coalesce(sum(weight * (score / n - 1) / 4) FILTER (WHERE attribute IS NOT NULL), 0) AS numerator, coalesce(sum(weight) FILTER (WHERE attribute IS NOT NULL), 0) AS denominator
FROM (SELECT r.period AS period, d.__dim_0 AS "age", r."attribute", r."weight", sum(r."score") AS "score", count(*) AS n
FROM kpi_rows r
LEFT JOIN (SELECT k.ckey AS __dim_key, k.dims."age" AS __dim_0 FROM fast_customer_keys k) d ON d.__dim_key = r.customer_id
GROUP BY 1, 2, 3, 4) r
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST