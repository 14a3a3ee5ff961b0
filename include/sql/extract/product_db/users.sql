-- Issued seats (product users) in the canonical shape; a full snapshot each run.
SELECT m.id::text          AS user_id,
       o.crm_company_id    AS account_id,
       m.created_at        AS created_at,
       m.removed_at        AS deactivated_at,
       m.role              AS role
FROM app.members AS m
LEFT JOIN app.organizations AS o ON o.id = m.organization_id
