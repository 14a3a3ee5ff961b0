-- Whether any key came twice with identical content: only then must the merge
-- collapse copies (DISTINCT ON costs a sort the common case does not need).
SELECT EXISTS (SELECT 1 FROM _repeated_keys WHERE NOT conflicting) AS has_copies
