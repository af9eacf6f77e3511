-- RM tasks (待办) and leads (issue 5: the RM-task action of campaigns and
-- journeys; docs/TASKS.md). Both are created in the caller's transaction by
-- campaigns, journeys or a person, and both carry a unique dedup key so a
-- retried launch or a journey firing again creates nothing twice.

-- A task is a work item for an employee about a customer. It is either
-- assigned to a user (assignee_id) or waits in a queue (queue_role at
-- queue_org_id, e.g. the lobby managers of one outlet) until one of them
-- claims it; the queue columns are kept after the claim as history.
-- priority: 1 high, 2 normal, 3 low. actions is a JSON array of strings
-- (suggested actions). status: open → done or cancelled, with the outcome
-- note and the user who closed it.
CREATE TABLE tasks (
    id           {{pk}},
    kind         TEXT NOT NULL CHECK (kind IN ('call','visit','follow_up','churn_alert','lobby_alert','campaign_call')),
    title        TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    actions      TEXT NOT NULL DEFAULT '[]',
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    product_id   BIGINT REFERENCES products(id),
    assignee_id  BIGINT REFERENCES users(id),
    queue_role   TEXT NOT NULL DEFAULT '',
    queue_org_id BIGINT REFERENCES orgs(id),
    due_at       {{ts}},
    priority     INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','done','cancelled')),
    outcome      TEXT NOT NULL DEFAULT '',
    closed_by    BIGINT REFERENCES users(id),
    closed_at    {{ts}},
    claimed_at   {{ts}},
    source_kind  TEXT NOT NULL CHECK (source_kind IN ('campaign','journey','manual')),
    source_id    BIGINT NOT NULL DEFAULT 0,
    dedup_key    TEXT NOT NULL,
    created_by   BIGINT REFERENCES users(id),
    created_at   {{ts}} NOT NULL,
    updated_at   {{ts}} NOT NULL,
    CHECK (assignee_id IS NOT NULL OR (queue_role <> '' AND queue_org_id IS NOT NULL))
);
CREATE UNIQUE INDEX tasks_dedup ON tasks(dedup_key);
-- "My tasks": an assignee's open tasks by due time.
CREATE INDEX tasks_assignee ON tasks(assignee_id, status, due_at);
-- "My queue": unclaimed tasks of one role at one organisation.
CREATE INDEX tasks_queue ON tasks(queue_org_id, queue_role, status) WHERE assignee_id IS NULL;
CREATE INDEX tasks_customer ON tasks(customer_id);
CREATE INDEX tasks_source ON tasks(source_kind, source_id);

-- A lead is a sales opportunity on a customer for an employee to pursue;
-- the sales issue adds assignment rules and opportunities on top.
-- status: new → contacted → qualified → converted, or lost at any step.
CREATE TABLE leads (
    id          {{pk}},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    product_id  BIGINT REFERENCES products(id),
    source_kind TEXT NOT NULL CHECK (source_kind IN ('campaign','journey','manual')),
    source_id   BIGINT NOT NULL DEFAULT 0,
    assignee_id BIGINT REFERENCES users(id),
    status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new','contacted','qualified','converted','lost')),
    note        TEXT NOT NULL DEFAULT '',
    dedup_key   TEXT NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    updated_at  {{ts}} NOT NULL
);
CREATE UNIQUE INDEX leads_dedup ON leads(dedup_key);
CREATE INDEX leads_assignee ON leads(assignee_id, status);
CREATE INDEX leads_customer ON leads(customer_id);
CREATE INDEX leads_source ON leads(source_kind, source_id);
