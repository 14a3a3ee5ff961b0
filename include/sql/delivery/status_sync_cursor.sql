-- Where the last status sync stopped (the newest CRM modification time it applied).
SELECT cursor FROM meta.source_state WHERE source = %(source)s AND stream = %(stream)s
