-- Journey results (issue 5, item 6; docs/JOURNEYS.md "Results"): a firing's
-- group and its Asia/Shanghai day.
-- grp: treatment, or control when the customer was held out of the journey
-- (journey.InControl) and no action ran. fired_on: the bank's day of
-- fired_at, the first day of the conversion window and the day the results'
-- period filters on (set on insert; filled here for the firings made before).
ALTER TABLE journey_firings ADD COLUMN grp TEXT NOT NULL DEFAULT 'treatment'
    CHECK (grp IN ('treatment','control'));
ALTER TABLE journey_firings ADD COLUMN fired_on {{date}};
-- @sqlite
UPDATE journey_firings SET fired_on = date(fired_at, '+8 hours');
-- @postgres
UPDATE journey_firings SET fired_on = ((fired_at AT TIME ZONE 'UTC') + interval '8 hours')::date;
-- @all
-- The results read a journey's firings of a period, per group.
CREATE INDEX journey_firings_day ON journey_firings(journey_id, fired_on);
