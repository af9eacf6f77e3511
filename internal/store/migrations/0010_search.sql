-- Customer search (issue 4, item 9; docs/API.md "Customer search").
--
-- name_key is the pinyin key of the name (search.NameKey: 张三 → "zhs"),
-- written by every writer of customers.name. NULL means "not computed yet":
-- rows that existed before this migration, or that a writer stored without
-- it, are filled by store.DB.Migrate after the migrations (a resumable Go
-- step, since the key needs the pinyin dictionary). Pinyin searches are
-- prefix ranges on it, keyset-paged in (name_key, id) order.
ALTER TABLE customers ADD COLUMN name_key TEXT;
CREATE INDEX customers_name_key ON customers(name_key{{collate_c}}, id);

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
-- of every corporate name; a search looks up the rarest piece of the word
-- and checks the whole word on those rows only. Both engines keep it with
-- triggers, so bulk loads, imports and edits need not know it exists.
-- search_positions numbers the characters of a name for the triggers
-- (SQLite triggers cannot use a recursive WITH).
CREATE TABLE search_positions (n INTEGER PRIMARY KEY);
INSERT INTO search_positions (n)
    WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 200) SELECT n FROM p;

-- @sqlite
CREATE TABLE customer_name_grams (
    gram        TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;
-- @postgres
CREATE TABLE customer_name_grams (
    gram        TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, customer_id)
);
-- @all
CREATE INDEX customer_name_grams_customer ON customer_name_grams(customer_id);

INSERT INTO customer_name_grams (gram, customer_id)
    SELECT DISTINCT substr(c.name, p.n, 2), c.id FROM customers c JOIN search_positions p ON p.n < length(c.name)
    WHERE c.type = 'corporate';

-- @sqlite
CREATE TRIGGER customers_name_grams_insert AFTER INSERT ON customers WHEN new.type = 'corporate'
BEGIN
    INSERT OR IGNORE INTO customer_name_grams (gram, customer_id)
        SELECT substr(new.name, n, 2), new.id FROM search_positions WHERE n < length(new.name);
END;
CREATE TRIGGER customers_name_grams_update AFTER UPDATE OF name, type ON customers
    WHEN new.name IS NOT old.name OR new.type IS NOT old.type
BEGIN
    DELETE FROM customer_name_grams WHERE customer_id = old.id;
    INSERT OR IGNORE INTO customer_name_grams (gram, customer_id)
        SELECT substr(new.name, n, 2), new.id FROM search_positions
        WHERE n < length(new.name) AND new.type = 'corporate';
END;
-- @postgres
CREATE FUNCTION customers_name_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.name IS NOT DISTINCT FROM OLD.name AND NEW.type IS NOT DISTINCT FROM OLD.type THEN
            RETURN NULL;
        END IF;
        DELETE FROM customer_name_grams WHERE customer_id = OLD.id;
    END IF;
    IF NEW.type = 'corporate' THEN
        INSERT INTO customer_name_grams (gram, customer_id)
            SELECT substr(NEW.name, n, 2), NEW.id FROM search_positions WHERE n < char_length(NEW.name)
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_name_grams AFTER INSERT OR UPDATE OF name, type ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_name_grams();
-- @all
