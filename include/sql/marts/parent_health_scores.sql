-- Parent accounts: a roll-up of their children's scores for each day of
-- first_day .. last_day and one version. ARR-weighted by default (a child
-- paying more weighs more); a plain mean when configured or when no child has
-- ARR. Parameters: first_day, last_day, version.
INSERT INTO marts.parent_health_scores
    (parent_account_id, day, config_version, method, score, band, children, children_scored)
WITH children AS (
    SELECT k.parent_account_id, k.day, h.score, coalesce(k.arr, 0) AS arr
    FROM marts.account_daily_kpis AS k
    JOIN marts.health_scores AS h
      ON h.account_id = k.account_id AND h.day = k.day AND h.config_version = %(version)s::text
    WHERE k.day BETWEEN %(first_day)s::date AND %(last_day)s::date AND k.parent_account_id IS NOT NULL
),
rolled AS (
    SELECT c.parent_account_id, c.day,
           v.rollup_method AS method,
           count(*) AS children,
           count(c.score) AS children_scored,
           CASE WHEN v.rollup_method = 'arr_weighted' AND sum(c.arr) FILTER (WHERE c.score IS NOT NULL) > 0
                THEN sum(c.score * c.arr) FILTER (WHERE c.score IS NOT NULL) / sum(c.arr) FILTER (WHERE c.score IS NOT NULL)
                ELSE avg(c.score) END AS score,
           max(v.red_below) AS red_below, max(v.green_from) AS green_from
    FROM children AS c
    CROSS JOIN meta.scorecard_versions AS v
    WHERE v.config_version = %(version)s::text
    GROUP BY c.parent_account_id, c.day, v.rollup_method
)
SELECT parent_account_id, day, %(version)s::text, method, round(score, 2),
       CASE WHEN score IS NULL THEN 'insufficient_data'
            WHEN score < red_below THEN 'red' WHEN score >= green_from THEN 'green' ELSE 'yellow' END,
       children, children_scored
FROM rolled;
