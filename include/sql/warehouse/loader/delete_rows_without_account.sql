-- Their quarantined copies replace them: the staging copies leave.
DELETE FROM {staging} WHERE ctid IN (SELECT row_id FROM _without_account)
