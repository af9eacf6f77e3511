package store

import (
	"context"
	"database/sql"
	"fmt"

	"kehu/internal/campaign"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// CampaignStore implements campaign.Store.
type CampaignStore struct{ db *DB }

// Campaigns returns the campaign store.
func (db *DB) Campaigns() *CampaignStore { return &CampaignStore{db: db} }

const campaignColumns = `k.id, k.name, k.description, k.segment_id, COALESCE(g.name, ''), k.product_id,
	COALESCE(p.name, ''), k.channel, k.template_id, k.template_version, k.purpose, k.schedule_kind, k.start_at,
	k.end_at, k.control_pct, k.seed, k.throttle_per_minute, k.conversion_days, k.hold_hours, k.cost_per_message,
	k.value_per_conversion, k.status, k.reject_reason, k.created_by, k.updated_by, k.submitted_by, k.submitted_at,
	k.approved_by, k.approved_at, k.launched_by, k.launched_at, k.created_at, k.updated_at`

const campaignFrom = ` FROM campaigns k LEFT JOIN segments g ON g.id = k.segment_id
	LEFT JOIN products p ON p.id = k.product_id`

func scanCampaign(r interface{ Scan(...any) error }) (campaign.Campaign, error) {
	var c campaign.Campaign
	var product, tmpl, subBy, apBy, laBy sql.NullInt64
	var start, end, subAt, apAt, laAt sql.NullTime
	err := r.Scan(&c.ID, &c.Name, &c.Description, &c.SegmentID, &c.SegmentName, &product, &c.ProductName, &c.Channel,
		&tmpl, &c.TemplateVersion, &c.Purpose, &c.Schedule.Kind, &start, &end, &c.ControlPct, &c.Seed,
		&c.ThrottlePerMinute, &c.ConversionDays, &c.HoldHours, &c.CostPerMessage, &c.ValuePerConversion, &c.Status, &c.RejectReason,
		&c.CreatedBy, &c.UpdatedBy, &subBy, &subAt, &apBy, &apAt, &laBy, &laAt, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.ProductID, c.TemplateID = optID(product), optID(tmpl)
	c.Schedule.StartAt, c.Schedule.EndAt = optTime(start), optTime(end)
	c.SubmittedBy, c.SubmittedAt = optID(subBy), optTime(subAt)
	c.ApprovedBy, c.ApprovedAt = optID(apBy), optTime(apAt)
	c.LaunchedBy, c.LaunchedAt = optID(laBy), optTime(laAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// nullInt is an optional id as a driver value.
func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// campaignValues are the written columns of c in campaignWrite's order.
func campaignValues(c campaign.Campaign) []any {
	return []any{c.Name, c.Description, c.SegmentID, nullInt(c.ProductID), c.Channel, nullInt(c.TemplateID),
		c.TemplateVersion, c.Purpose, c.Schedule.Kind, timeOrNil(c.Schedule.StartAt), timeOrNil(c.Schedule.EndAt),
		c.ControlPct, c.Seed, c.ThrottlePerMinute, c.ConversionDays, c.HoldHours, c.CostPerMessage, c.ValuePerConversion, c.Status,
		c.RejectReason, c.CreatedBy, c.UpdatedBy, nullInt(c.SubmittedBy), timeOrNil(c.SubmittedAt), nullInt(c.ApprovedBy),
		timeOrNil(c.ApprovedAt), nullInt(c.LaunchedBy), timeOrNil(c.LaunchedAt), c.CreatedAt.UTC(), c.UpdatedAt.UTC()}
}

const campaignWrite = `name, description, segment_id, product_id, channel, template_id, template_version, purpose,
	schedule_kind, start_at, end_at, control_pct, seed, throttle_per_minute, conversion_days, hold_hours,
	cost_per_message, value_per_conversion, status, reject_reason, created_by, updated_by, submitted_by, submitted_at, approved_by,
	approved_at, launched_by, launched_at, created_at, updated_at`

// CreateCampaign inserts c and sets its id.
func (s *CampaignStore) CreateCampaign(ctx context.Context, c *campaign.Campaign) error {
	err := s.db.writer(ctx).QueryRowContext(ctx, "INSERT INTO campaigns ("+campaignWrite+") VALUES ("+
		s.db.dialect.params(1, 30)+") RETURNING id", campaignValues(*c)...).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("insert campaign: %w", err)
	}
	return nil
}

// UpdateCampaign stores every column of c.
func (s *CampaignStore) UpdateCampaign(ctx context.Context, c campaign.Campaign) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE campaigns SET (`+campaignWrite+`) = (`+
		"$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, "+
		"$25, $26, $27, $28, $29, $30) WHERE id = $31", append(campaignValues(c), c.ID)...)
	if err != nil {
		return fmt.Errorf("update campaign %d: %w", c.ID, err)
	}
	return nil
}

// GetCampaign returns one campaign.
func (s *CampaignStore) GetCampaign(ctx context.Context, id int64) (campaign.Campaign, error) {
	c, err := scanCampaign(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+campaignColumns+campaignFrom+" WHERE k.id = $1", id))
	if err != nil {
		return c, notFound(err, "campaign")
	}
	return c, nil
}

// ListCampaigns returns campaigns newest first (at most 500), of one status
// when set.
func (s *CampaignStore) ListCampaigns(ctx context.Context, status string) ([]campaign.Campaign, error) {
	q, args := "SELECT "+campaignColumns+campaignFrom, []any{}
	if status != "" {
		q += " WHERE k.status = $1"
		args = append(args, status)
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, q+" ORDER BY k.id DESC LIMIT 500", args...)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return collect(rows, "campaigns", func(r *sql.Rows) (campaign.Campaign, error) { return scanCampaign(r) })
}

// SegmentName implements campaign.Store.
func (s *CampaignStore) SegmentName(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT name FROM segments WHERE id = $1", id).Scan(&name)
	return name, notFoundOrNil(err, "segment")
}

// Product implements campaign.Store.
func (s *CampaignStore) Product(ctx context.Context, id int64) (campaign.Product, error) {
	p := campaign.Product{ID: id}
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT code, name, type, status FROM products WHERE id = $1", id).
		Scan(&p.Code, &p.Name, &p.Type, &p.Status)
	return p, notFoundOrNil(err, "product")
}

// Template implements campaign.Store.
func (s *CampaignStore) Template(ctx context.Context, id int64) (msgtemplate.Template, error) {
	return s.db.Templates().GetTemplate(ctx, id)
}

// TemplateVersion implements campaign.Store.
func (s *CampaignStore) TemplateVersion(ctx context.Context, id int64, version int) (msgtemplate.Version, error) {
	return s.db.Templates().GetVersion(ctx, id, version)
}

// Products implements campaign.Store.
func (s *CampaignStore) Products(ctx context.Context) ([]campaign.Product, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT id, code, name, type, status FROM products WHERE status = 'on_sale' ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	return collect(rows, "products", func(r *sql.Rows) (campaign.Product, error) {
		var p campaign.Product
		return p, r.Scan(&p.ID, &p.Code, &p.Name, &p.Type, &p.Status)
	})
}

// ActorOf implements campaign.Store: the user as an actor, and whether
// they are active.
func (s *CampaignStore) ActorOf(ctx context.Context, userID int64) (kehu.Actor, bool, error) {
	return (&ImportStore{db: s.db}).ActorOf(ctx, userID)
}

// notFoundOrNil is notFound for a nil-safe error.
func notFoundOrNil(err error, what string) error {
	if err == nil {
		return nil
	}
	return notFound(err, what)
}
