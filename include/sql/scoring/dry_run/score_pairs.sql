-- Each account's score and band under the current and the candidate version
-- on one day; only accounts both versions scored compare. Who the account is
-- (name, CSM, ARR) as marts.accounts had it that day, for the person reviewing.
SELECT cur.account_id,
       cur.score AS score_before,
       cand.score AS score_after,
       cur.band AS band_before,
       cand.band AS band_after,
       a.name AS account_name,
       a.csm_name,
       a.arr
FROM marts.health_scores AS cur
JOIN marts.health_scores AS cand USING (account_id, day)
LEFT JOIN marts.accounts_as_of(%(day)s::date) AS a ON a.account_id = cur.account_id
WHERE cur.day = %(day)s AND cur.config_version = %(cur)s AND cand.config_version = %(cand)s
ORDER BY cur.account_id
