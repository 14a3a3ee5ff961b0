"""Check of PDCA: outcomes, evaluation of scores against churn, and its report."""
