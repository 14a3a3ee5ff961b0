-- Who gets a digest on this channel today: the owner (or queue) of an open task routed to the
-- channel, without a digest sent yet (meta.digests_sent). Parameters: day, channel, queue_prefix.
WITH todays AS (
    SELECT coalesce(t.owner_email, %(queue_prefix)s || coalesce(t.queue, 'unassigned')) AS recipient
    FROM marts.csm_tasks AS t
    WHERE t.day = %(day)s AND t.status = 'open' AND %(channel)s = ANY (t.channels)
)
SELECT DISTINCT r.recipient
FROM todays AS r
WHERE NOT EXISTS (SELECT 1 FROM meta.digests_sent AS d
                  WHERE d.owner_email = r.recipient AND d.day = %(day)s AND d.channel = %(channel)s)
ORDER BY r.recipient;
