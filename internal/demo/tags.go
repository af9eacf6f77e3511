package demo

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/store"
	"kehu/internal/tag"
)

// demoTags are the catalogue entries the demo's customers carry: the
// built-in defaults (tag.Defaults, so tag.Service.EnsureDefaults finds them
// by code) and the demo's manual tags. id maps a demo tag (a default's code
// or a manual tag's name) to its catalogue id.
type demoTags struct {
	id   map[string]int64
	rows []tag.Tag // entries the database lacks, to insert
}

// catalogueTags reuses the entries a database already has (by code, then
// name) and numbers the missing ones after them.
func catalogueTags(ctx context.Context, db *store.DB, now time.Time) (*demoTags, error) {
	have, err := db.Tags().ListTags(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &demoTags{id: map[string]int64{}}
	var next int64
	byCode, byName := map[string]int64{}, map[string]int64{}
	for _, t := range have {
		next = max(next, t.ID)
		if t.Code != "" {
			byCode[t.Code] = t.ID
		}
		byName[t.Name] = t.ID
	}
	want := func(key string, t tag.Tag) {
		if id, ok := byCode[t.Code]; ok && t.Code != "" {
			d.id[key] = id
			return
		}
		if id, ok := byName[t.Name]; ok {
			d.id[key] = id
			return
		}
		next++
		t.ID, t.Active, t.CreatedAt, t.UpdatedAt = next, true, now, now
		d.id[key] = t.ID
		d.rows = append(d.rows, t)
	}
	for _, t := range tag.Defaults {
		want(t.Code, t)
	}
	for _, m := range manualTags {
		want(m[0], tag.Tag{Name: m[0], LabelEN: m[1], Kind: tag.Manual, Color: m[2], Description: m[3]})
	}
	return d, nil
}

// tagColumns are the catalogue columns the demo writes.
var tagColumns = []string{"id", "code", "name", "label_en", "kind", "color", "description", "polarity",
	"default_expiry_days", "rule", "active", "created_at", "updated_at"}

func (d *demoTags) write(t *store.BulkTable) error {
	for _, x := range d.rows {
		if err := t.Add(x.ID, x.Code, x.Name, x.LabelEN, x.Kind, x.Color, x.Description, x.Polarity,
			x.DefaultExpiryDays, tag.EncodeRule(x.Rule), x.Active, x.CreatedAt, x.UpdatedAt); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}
