-- Full-pinyin customer search (issue 4, item 9; docs/API.md "Customer search").
--
-- name_pinyin is the full pinyin of the name (search.NamePinyin: 张伟 →
-- "zhangwei"), written by every writer of customers.name beside name_key.
-- NULL means "not computed yet": rows that existed before this migration are
-- filled by store.DB.Migrate after the migrations, in the same resumable Go
-- step as name_key (the pinyin dictionary is Go). Full-pinyin searches are
-- prefix ranges on it, keyset-paged in (name_pinyin, id) order, with the same
-- three index shapes as name_key: the bank-wide order carrying the scope
-- columns, an outlet's slice and an RM's slice.
ALTER TABLE customers ADD COLUMN name_pinyin TEXT;
CREATE INDEX customers_name_pinyin ON customers(name_pinyin{{collate_c}}, id, org_id, owner_id);
CREATE INDEX customers_org_name_pinyin ON customers(org_id, name_pinyin{{collate_c}}, id);
CREATE INDEX customers_owner_name_pinyin ON customers(owner_id, name_pinyin{{collate_c}}, id);
