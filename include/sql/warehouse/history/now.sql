-- The load's time: the transaction's start, the same for every statement of the load.
SELECT now() AS now
