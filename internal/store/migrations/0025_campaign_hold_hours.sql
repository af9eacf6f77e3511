-- How long a paused campaign's message may stay held past its own send time
-- (docs/CAMPAIGNS.md "Pause and resume"): a resume withdraws older held
-- messages as expired instead of sending stale content days late. 72 hours
-- for every existing campaign, the default of a new one.
ALTER TABLE campaigns ADD COLUMN hold_hours INTEGER NOT NULL DEFAULT 72;
