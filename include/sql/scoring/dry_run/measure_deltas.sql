-- Why each mover moved: the change in each measure's contribution between the
-- two versions (a measure only one version has counts in full), biggest
-- first, the top three per account. Ties break on the measure name so the
-- reasons printed never depend on the order a plan returns rows.
WITH cur AS (
    SELECT account_id, measure, contribution
    FROM marts.health_score_components
    WHERE day = %(day)s AND config_version = %(cur)s AND account_id = ANY(%(accounts)s)
),
cand AS (
    SELECT account_id, measure, contribution
    FROM marts.health_score_components
    WHERE day = %(day)s AND config_version = %(cand)s AND account_id = ANY(%(accounts)s)
),
deltas AS (
    SELECT account_id, measure,
           coalesce(cand.contribution, 0) - coalesce(cur.contribution, 0) AS delta
    FROM cur
    FULL JOIN cand USING (account_id, measure)
),
ranked AS (
    SELECT account_id, measure, delta,
           row_number() OVER (PARTITION BY account_id ORDER BY abs(delta) DESC, measure) AS rank
    FROM deltas
)
SELECT account_id, measure, delta
FROM ranked
WHERE rank <= 3
ORDER BY account_id, rank
