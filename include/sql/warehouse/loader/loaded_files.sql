-- Export files a stream has loaded, newest content of each name last: the
-- csv kind reads a file again only when its content is new.
SELECT name, sha256 FROM meta.source_files
WHERE source = %(source)s AND stream = %(stream)s
ORDER BY name, loaded_at
