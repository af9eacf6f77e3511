package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// TemplateStore implements msgtemplate.Store.
type TemplateStore struct{ db *DB }

// Templates returns the message template store.
func (db *DB) Templates() *TemplateStore { return &TemplateStore{db: db} }

// CreateTemplate implements msgtemplate.Store.
func (s *TemplateStore) CreateTemplate(ctx context.Context, t *msgtemplate.Template) error {
	q := s.db.writer(ctx)
	err := q.QueryRowContext(ctx, `INSERT INTO message_templates (name, channel, purpose, version, created_by, updated_by,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, t.Name, string(t.Channel),
		string(t.Purpose), t.Version, t.CreatedBy, t.UpdatedBy, t.CreatedAt.UTC(), t.UpdatedAt.UTC()).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("insert template: %w", err)
	}
	return s.insertVersion(ctx, *t)
}

func (s *TemplateStore) insertVersion(ctx context.Context, t msgtemplate.Template) error {
	content, err := json.Marshal(t.Content)
	if err != nil {
		return err
	}
	_, err = s.db.writer(ctx).ExecContext(ctx, `INSERT INTO message_template_versions (template_id, version, name, purpose,
		content, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.Version, t.Name,
		string(t.Purpose), string(content), t.Note, t.UpdatedBy, t.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert template %d version %d: %w", t.ID, t.Version, err)
	}
	return nil
}

// AddVersion implements msgtemplate.Store.
func (s *TemplateStore) AddVersion(ctx context.Context, t msgtemplate.Template) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE message_templates SET name = $1, purpose = $2, version = $3,
		updated_by = $4, updated_at = $5 WHERE id = $6 AND version = $7`, t.Name, string(t.Purpose), t.Version,
		t.UpdatedBy, t.UpdatedAt.UTC(), t.ID, t.Version-1)
	if err != nil {
		return fmt.Errorf("update template %d: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kehu.Errorf(kehu.ECONFLICT, "template %d was saved meanwhile; reload", t.ID)
	}
	return s.insertVersion(ctx, t)
}

const templateColumns = `t.id, t.name, t.channel, t.purpose, t.version, v.content, v.note, t.created_by, t.updated_by,
	t.created_at, t.updated_at`

func scanTemplate(row interface{ Scan(...any) error }) (msgtemplate.Template, error) {
	var t msgtemplate.Template
	var ch, p, content string
	err := row.Scan(&t.ID, &t.Name, &ch, &p, &t.Version, &content, &t.Note, &t.CreatedBy, &t.UpdatedBy, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.Channel, t.Purpose = msgtemplate.Channel(ch), msgtemplate.Purpose(p)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(content), &t.Content); err != nil {
		return t, fmt.Errorf("template %d content: %w", t.ID, err)
	}
	return t, nil
}

// GetTemplate implements msgtemplate.Store.
func (s *TemplateStore) GetTemplate(ctx context.Context, id int64) (msgtemplate.Template, error) {
	t, err := scanTemplate(s.db.reader(ctx).QueryRowContext(ctx, `SELECT `+templateColumns+`
		FROM message_templates t JOIN message_template_versions v ON v.template_id = t.id AND v.version = t.version
		WHERE t.id = $1`, id))
	if err != nil {
		return t, notFound(err, "template")
	}
	return t, nil
}

// ListTemplates implements msgtemplate.Store.
func (s *TemplateStore) ListTemplates(ctx context.Context, ch msgtemplate.Channel) ([]msgtemplate.Template, error) {
	out := []msgtemplate.Template{}
	err := queryEach(ctx, s.db.reader(ctx), "list templates", `SELECT `+templateColumns+`
		FROM message_templates t JOIN message_template_versions v ON v.template_id = t.id AND v.version = t.version
		WHERE $1 = '' OR t.channel = $1 ORDER BY t.id`, []any{string(ch)}, func(r *sql.Rows) error {
		t, err := scanTemplate(r)
		out = append(out, t)
		return err
	})
	return out, err
}

// GetVersion implements msgtemplate.Store.
func (s *TemplateStore) GetVersion(ctx context.Context, id int64, version int) (msgtemplate.Version, error) {
	v, err := scanTemplateVersion(s.db.reader(ctx).QueryRowContext(ctx, `SELECT template_id, version, purpose, content, note,
		created_by, created_at FROM message_template_versions WHERE template_id = $1 AND version = $2`, id, version))
	if err != nil {
		return v, notFound(err, "template version")
	}
	return v, nil
}

func scanTemplateVersion(row interface{ Scan(...any) error }) (msgtemplate.Version, error) {
	var v msgtemplate.Version
	var content string
	if err := row.Scan(&v.TemplateID, &v.Version, &v.Purpose, &content, &v.Note, &v.CreatedBy, &v.CreatedAt); err != nil {
		return v, err
	}
	v.CreatedAt = v.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(content), &v.Content); err != nil {
		return v, fmt.Errorf("template %d version %d: %w", v.TemplateID, v.Version, err)
	}
	return v, nil
}

// ListVersions implements msgtemplate.Store.
func (s *TemplateStore) ListVersions(ctx context.Context, id int64) ([]msgtemplate.Version, error) {
	out := []msgtemplate.Version{}
	err := queryEach(ctx, s.db.reader(ctx), "list template versions", `SELECT template_id, version, purpose, content, note,
		created_by, created_at FROM message_template_versions WHERE template_id = $1 ORDER BY version DESC`,
		[]any{id}, func(r *sql.Rows) error {
			v, err := scanTemplateVersion(r)
			out = append(out, v)
			return err
		})
	return out, err
}
