"""Playbooks: conditions on scores, KPIs and maturity -> tasks for CSMs, exactly once."""
