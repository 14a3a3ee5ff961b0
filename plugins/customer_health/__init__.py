"""customer_health: sources -> warehouse -> KPIs -> health score -> CMI -> CSM tasks.

The importable product code. DAG files in ``dags/`` stay thin and call into
this package; heavy work runs as set-based SQL inside the Postgres warehouse.
"""
