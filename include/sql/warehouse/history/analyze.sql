-- Statistics of the history table after a load changed it: the KPI build reads it next.
ANALYZE {history}
