-- Where an incremental source left off for one stream (NULL on the first run).
SELECT cursor FROM meta.source_state WHERE source = %(source)s AND stream = %(stream)s
