package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kehu/internal/outbox"
)

// messageText is the stored form of a new message's data and content: JSON,
// or "" when absent.
func messageText(r outbox.New) (data, content string, err error) {
	if r.Data != nil {
		b, err := json.Marshal(r.Data)
		if err != nil {
			return "", "", err
		}
		data = string(b)
	}
	if r.Content != nil {
		b, err := json.Marshal(r.Content)
		if err != nil {
			return "", "", err
		}
		content = string(b)
	}
	return data, content, nil
}

// enqueueArrays is Enqueue's insert on PostgreSQL: one statement for all
// rows with one array parameter per column, unnested in order, skipping
// existing dedup keys as the VALUES form does. Its text does not change
// with the number of rows, so it is prepared once instead of a 13-column
// VALUES list being parsed and planned for every launch batch
// (insertMembersArrays, docs/BENCHMARKS.md).
func enqueueArrays(ctx context.Context, q querier, rows []outbox.New, now time.Time) (int, error) {
	n := len(rows)
	kinds, channels, keys := make([]string, n), make([]string, n), make([]string, n)
	sources, customers, templates := make([]int64, n), make([]int64, n), make([]*int64, n)
	versions, datas, contents, due := make([]int32, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for i, r := range rows {
		data, content, err := messageText(r)
		if err != nil {
			return 0, err
		}
		kinds[i], sources[i], customers[i], channels[i], keys[i] = r.SourceKind, r.SourceID, r.CustomerID, string(r.Channel), r.Key()
		if r.TemplateID != 0 {
			templates[i] = &rows[i].TemplateID
		}
		versions[i], datas[i], contents[i], due[i] = int32(r.TemplateVersion), data, content, now
		if r.NotBefore.After(now) {
			due[i] = r.NotBefore.UTC()
		}
	}
	res, err := q.ExecContext(ctx, outboxInsertHead+`
		SELECT k, s, c, ch, key, t, v, d, ct, $10::text, due, $11::timestamptz, $11::timestamptz
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::integer[],
			$8::text[], $9::text[], $12::timestamptz[]) AS x(k, s, c, ch, key, t, v, d, ct, due)
		ON CONFLICT (dedup_key) DO NOTHING`,
		kinds, sources, customers, channels, keys, templates, versions, datas, contents, string(outbox.Queued), now, due)
	if err != nil {
		return 0, fmt.Errorf("insert messages: %w", err)
	}
	inserted, err := res.RowsAffected()
	return int(inserted), err
}
