-- One status sync at a time: two would read the same cursor and race on the same tasks.
SELECT pg_advisory_xact_lock(hashtext('customer_health.crm_status_sync'))
