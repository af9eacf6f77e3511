-- Customer search (issue 4, item 9; docs/API.md "Customer search").
--
-- name_key is the pinyin key of the name (search.NameKey: 张三 → "zhs"),
-- written by every writer of customers.name. NULL means "not computed yet":
-- rows that existed before this migration, or that a writer stored without
-- it, are filled by store.DB.Migrate after the migrations (a resumable Go
-- step, since the key needs the pinyin dictionary). Pinyin searches are
-- prefix ranges on it, keyset-paged in (name_key, id) order.
ALTER TABLE customers ADD COLUMN name_key TEXT;
CREATE INDEX customers_name_key ON customers(name_key{{collate_c}}, id, org_id, owner_id);

-- The bank-wide name order carries the scope columns too, so a search of
-- the whole bank or of a wide subtree (a province) walks it in order and
-- tests the organisation from the entry, stopping after a page.
DROP INDEX customers_name;
CREATE INDEX customers_name ON customers(name{{collate_c}}, id, org_id, owner_id);

-- Searches inside a restricted scope walk the scope's own slice of the name
-- and key order: an outlet is org_id = ?, a subtree a list of org_ids, an RM
-- owner_id = ?. The ids come from these indexes alone (store/search.go reads
-- the table only for the page), so a common surname in a province branch
-- costs index entries, not row reads.
CREATE INDEX customers_org_name ON customers(org_id, name{{collate_c}}, id);
CREATE INDEX customers_owner_name ON customers(owner_id, name{{collate_c}}, id);
CREATE INDEX customers_org_name_key ON customers(org_id, name_key{{collate_c}}, id);
CREATE INDEX customers_owner_name_key ON customers(owner_id, name_key{{collate_c}}, id);

-- Corporate names are also found by a word they contain (恒信 finds
-- 杭州恒信贸易有限公司). customer_name_grams holds every two-character piece
-- of every corporate name with the company's org_id and owner_id, so a search
-- narrows the rows of the word's rarest piece to the user's scope before it
-- reads a single customer row to check the whole word. Both engines keep it
-- with triggers (insert, name or type change, move to another outlet or RM),
-- so bulk loads, imports, transfers and edits need not know it exists.
-- search_positions numbers the characters of a name for the triggers
-- (SQLite triggers cannot use a recursive WITH).
CREATE TABLE search_positions (n INTEGER PRIMARY KEY);
INSERT INTO search_positions (n)
    WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 200) SELECT n FROM p;

-- @sqlite
CREATE TABLE customer_name_grams (
    gram        TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL,
    owner_id    BIGINT,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;
-- @postgres
CREATE TABLE customer_name_grams (
    gram        TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL,
    owner_id    BIGINT,
    PRIMARY KEY (gram, customer_id)
);
-- @all
CREATE INDEX customer_name_grams_customer ON customer_name_grams(customer_id);

INSERT INTO customer_name_grams (gram, customer_id, org_id, owner_id)
    SELECT DISTINCT substr(c.name, p.n, 2), c.id, c.org_id, c.owner_id
    FROM customers c JOIN search_positions p ON p.n < length(c.name)
    WHERE c.type = 'corporate';

-- @sqlite
CREATE TRIGGER customers_name_grams_insert AFTER INSERT ON customers WHEN new.type = 'corporate'
BEGIN
    INSERT OR IGNORE INTO customer_name_grams (gram, customer_id, org_id, owner_id)
        SELECT substr(new.name, n, 2), new.id, new.org_id, new.owner_id FROM search_positions WHERE n < length(new.name);
END;
CREATE TRIGGER customers_name_grams_update AFTER UPDATE OF name, type ON customers
    WHEN new.name IS NOT old.name OR new.type IS NOT old.type
BEGIN
    DELETE FROM customer_name_grams WHERE customer_id = old.id;
    INSERT OR IGNORE INTO customer_name_grams (gram, customer_id, org_id, owner_id)
        SELECT substr(new.name, n, 2), new.id, new.org_id, new.owner_id FROM search_positions
        WHERE n < length(new.name) AND new.type = 'corporate';
END;
CREATE TRIGGER customers_name_grams_scope AFTER UPDATE OF org_id, owner_id ON customers
    WHEN new.org_id IS NOT old.org_id OR new.owner_id IS NOT old.owner_id
BEGIN
    UPDATE customer_name_grams SET org_id = new.org_id, owner_id = new.owner_id WHERE customer_id = new.id;
END;
-- @postgres
CREATE FUNCTION customers_name_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.name IS NOT DISTINCT FROM OLD.name AND NEW.type IS NOT DISTINCT FROM OLD.type THEN
            IF NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
                UPDATE customer_name_grams SET org_id = NEW.org_id, owner_id = NEW.owner_id WHERE customer_id = NEW.id;
            END IF;
            RETURN NULL;
        END IF;
        DELETE FROM customer_name_grams WHERE customer_id = OLD.id;
    END IF;
    IF NEW.type = 'corporate' THEN
        INSERT INTO customer_name_grams (gram, customer_id, org_id, owner_id)
            SELECT substr(NEW.name, n, 2), NEW.id, NEW.org_id, NEW.owner_id FROM search_positions
            WHERE n < char_length(NEW.name)
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_name_grams AFTER INSERT OR UPDATE OF name, type, org_id, owner_id ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_name_grams();
-- @all
