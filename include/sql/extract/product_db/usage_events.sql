-- Product usage events in the canonical shape (see docs/data-contracts.md).
-- Adapt the FROM / JOIN / column expressions to your product's schema; keep the
-- output column names. %(cursor)s is the largest _cursor loaded so far (NULL on
-- the first run); _cursor must sort as text in change order.
SELECT e.id::text                              AS event_id,
       o.crm_company_id                        AS account_id,
       e.member_id::text                       AS user_id,
       e.name                                  AS event_name,
       e.created_at                            AS occurred_at,
       round(e.duration_ms / 1000.0, 3)        AS duration_seconds,
       to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _cursor
FROM app.events AS e
LEFT JOIN app.organizations AS o ON o.id = e.organization_id
WHERE %(cursor)s::text IS NULL
   OR e.created_at > (%(cursor)s::timestamp AT TIME ZONE 'UTC')
