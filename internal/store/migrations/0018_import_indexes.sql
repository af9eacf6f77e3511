-- Large customer imports build the search indexes after the load (issue 4,
-- docs/IMPORT.md "Large loads"). Inserting a million rows into a dozen
-- B-trees costs a random page write per row and index; building an index
-- afterwards is one sort. deferred_indexes holds the definitions of the
-- indexes an import dropped, so whoever ends the job — the job itself, or the
-- next start of Kehu after a crash — creates exactly those again.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    job_id     BIGINT REFERENCES import_jobs(id),
    dropped_at {{ts}} NOT NULL
);
