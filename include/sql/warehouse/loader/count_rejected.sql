-- Rows of the batch that did not load (quarantined now or already waiting there).
SELECT count(*) AS rejected FROM _candidates WHERE cardinality(_reasons) > 0
