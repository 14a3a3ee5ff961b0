INSERT INTO marts.evaluation_diagnostics (run_id, kind, subject, scope, detail)
VALUES (%(run_id)s, %(kind)s, %(subject)s, %(scope)s, %(detail)s);
