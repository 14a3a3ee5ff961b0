-- Claim today's digest for a recipient and channel; a concurrent run's insert waits for ours, then
-- finds it and sends nothing. Parameters: recipient, day, channel, tasks.
INSERT INTO meta.digests_sent (owner_email, day, channel, tasks)
VALUES (%(recipient)s, %(day)s, %(channel)s, %(tasks)s)
ON CONFLICT DO NOTHING
RETURNING 1 AS claimed;
