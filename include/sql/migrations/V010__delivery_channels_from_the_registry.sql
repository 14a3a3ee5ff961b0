-- Delivery channels are a registry in the code (customer_health.delivery:
-- crm, slack, email, and any channel a module registers), checked when
-- playbooks.yml is validated. A CHECK listing the digest channels here was a
-- second copy of that list: adding a channel meant a migration. The name is a
-- name; the primary key (owner_email, day, channel) still makes each digest
-- once per recipient, channel and day.
ALTER TABLE meta.digests_sent DROP CONSTRAINT IF EXISTS digests_sent_channel_check;

COMMENT ON COLUMN meta.digests_sent.channel IS
    'A registered digest channel (slack, email, ...): the names come from the code''s channel registry, checked when playbooks.yml is validated.';
