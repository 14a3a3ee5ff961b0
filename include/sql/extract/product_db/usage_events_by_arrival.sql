-- Product usage events, read by when each row arrived in the product database
-- (a column the product writes on insert, here app.events.received_at) rather
-- than by when the event happened: an event that reaches the product late
-- (a mobile client offline for a day) still arrives after the cursor, so it is
-- never skipped. Use this file instead of usage_events.sql when the product has
-- such a column; _cursor must sort as text in arrival order.
SELECT e.id::text                              AS event_id,
       o.crm_company_id                        AS account_id,
       e.member_id::text                       AS user_id,
       e.name                                  AS event_name,
       e.created_at                            AS occurred_at,
       round(e.duration_ms / 1000.0, 3)        AS duration_seconds,
       to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS _cursor
FROM app.events AS e
LEFT JOIN app.organizations AS o ON o.id = e.organization_id
WHERE %(cursor)s::text IS NULL
   OR e.received_at > (%(cursor)s::timestamp AT TIME ZONE 'UTC')
