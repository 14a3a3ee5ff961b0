-- Licensed seats per account in the canonical shape; a full snapshot each run.
SELECT o.crm_company_id AS account_id,
       s.seats          AS seats
FROM app.subscriptions AS s
LEFT JOIN app.organizations AS o ON o.id = s.organization_id
