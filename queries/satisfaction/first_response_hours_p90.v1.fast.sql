-- source: fast_response_quantiles
-- value: any_value(hours)
-- Whole calendar months, quarters or years of everyone: the quantile
-- computed at import, a row per period.
SELECT period, customer_id, hours FROM fast_response_quantiles WHERE q = 0.9
-- form
-- source: fast_response_buckets, fast_response_bucketed
-- value: any_value(hours)
-- min_days: 60
-- Of everyone: quantile_cont's value without sorting every ticket. A
-- period's n tickets sorted by hours have the quantile's ranks floor
-- and ceil of (n - 1) * 0.9 (from 0); its counts per bucket (buckets of
-- hours in their order) place each rank in a bucket, with the tickets
-- of the buckets below before it; only the hours of those one or two
-- buckets are sorted, and the value interpolates between the two ranks'
-- hours as DuckDB does, lo + (hi - lo) * (rank - floor(rank)). A row per
-- period with tickets. The bucketed hours carry their day, not their
-- period, so that DuckDB, joining them on the bucket, reads only the
-- buckets wanted. Its steps cost more than DuckDB's quantile saves over
-- short windows (at 1M customers a month's 19k tickets), hence at least
-- 60 days.
SELECT period, NULL::INTEGER AS customer_id, hs[lo_at] + (hs[hi_at] - hs[lo_at]) * (pos - floor(pos)) AS hours
FROM (
  SELECT t.period, t.pos, list(h.hours ORDER BY h.hours) AS hs,
         CAST(floor(t.pos) AS BIGINT) - min(t.below) + 1 AS lo_at,
         CAST(ceil(t.pos) AS BIGINT) - min(t.below) + 1 AS hi_at
  FROM (
    SELECT period, bucket, pos, below FROM (
      SELECT period, bucket, n, CAST(sum(n) OVER (PARTITION BY period ORDER BY bucket) AS BIGINT) - n AS below,
             CAST(sum(n) OVER (PARTITION BY period) - 1 AS DOUBLE) * 0.9::DOUBLE AS pos
      FROM (SELECT period, bucket, CAST(sum(n) AS BIGINT) AS n FROM fast_response_buckets GROUP BY period, bucket))
    WHERE below <= ceil(pos) AND below + n > floor(pos)) t
  JOIN periods p ON p.period = t.period
  JOIN fast_response_bucketed h ON h.bucket = t.bucket AND h.day >= p.win_start AND h.day < p.win_end
  GROUP BY t.period, t.pos)
-- form
-- source: fast_response_hours
-- Without a customer filter, by few-valued customer dimensions (per
-- combination of them): the same hours, a row per ticket with a first
-- response, at any window, so the same quantile.
SELECT period, customer_id, hours FROM fast_response_hours
-- form
-- source: fast_tickets
-- Filtered by customer or by a many-valued dimension: the tickets
-- themselves, keyed, the macro's rows (a ticket with a first response
-- has its hours).
SELECT period, customer_id, ticket_id, response_hours AS hours FROM fast_tickets WHERE response_hours IS NOT NULL
