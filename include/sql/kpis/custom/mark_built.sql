-- The custom columns just computed over start .. end follow their definitions there.
UPDATE meta.kpi_definitions
SET built_from = least(built_from, %(start)s::date),
    built_through = greatest(built_through, %(end)s::date)
WHERE name = ANY (%(names)s::text[])
