"""Health scores: scorecards (config) -> per-measure components -> score, band, coverage -> changes."""
