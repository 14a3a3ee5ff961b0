-- How many event names the KPI build has recorded: none means no KPI build has read the events
-- yet, so "this configured name never occurs" cannot be told apart from "not looked at yet".
SELECT count(*) AS known FROM intermediate.event_names;
