-- The scoring SQL joins every account to these small config tables. Without
-- fresh statistics the planner takes a new version's rows for the 1-3 it last
-- saw and picks nested loops over the account x measure grid (one day at
-- 20,000 accounts took 366 s that way), so they are measured after each new version.
ANALYZE meta.scorecard_versions;
ANALYZE meta.scorecards;
ANALYZE meta.scorecard_conditions;
ANALYZE meta.scorecard_measures;
