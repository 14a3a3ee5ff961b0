-- The bit each event name was given in the rollups' feature bitmaps: the KPI
-- SQL finds logins and milestones by these bits.
SELECT event_name, bit FROM intermediate.event_names ORDER BY bit
