package campaign

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/policy"
)

// Input is a campaign as its maker writes it.
type Input struct {
	Name               string
	Description        string
	SegmentID          int64
	ProductID          *int64
	Channel            string
	TemplateID         *int64
	Purpose            string
	Schedule           Schedule
	ControlPct         int
	ThrottlePerMinute  int
	ConversionDays     int
	CostPerMessage     int64
	ValuePerConversion int64
}

// Limits of the inputs.
const (
	MaxControlPct     = 50
	MaxThrottle       = 1_000_000
	MaxConversionDays = 365
	// DefaultConversionDays is the window when none is given.
	DefaultConversionDays = 30
	// MaxRecurrence is how long a recurring campaign may run.
	MaxRecurrence = 366 * 24 * time.Hour
)

// available lists the template variables a campaign can fill: the
// customer's name and salutation and the RM come from the customer record
// at send time; the product's name from the offer.
func available(hasProduct bool) []string {
	out := []string{"customer_name", "salutation", "rm_name", "rm_phone"}
	if hasProduct {
		out = append(out, "product_name")
	}
	return out
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func join(list []string) string { return strings.Join(list, ", ") }

// check validates in against the catalogue (segment, product, template),
// naming every bad field, and returns the campaign it describes.
func (s *Service) check(ctx context.Context, in Input, now time.Time) (Campaign, error) {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Purpose == "" {
		in.Purpose = policy.PurposeMarketing
	}
	if in.ConversionDays == 0 {
		in.ConversionDays = DefaultConversionDays
	}
	if in.Schedule.Kind == "" {
		in.Schedule.Kind = Once
	}
	c := Campaign{Name: in.Name, Description: in.Description, SegmentID: in.SegmentID, ProductID: in.ProductID,
		Channel: in.Channel, TemplateID: in.TemplateID, Purpose: in.Purpose, Schedule: in.Schedule,
		ControlPct: in.ControlPct, ThrottlePerMinute: in.ThrottlePerMinute, ConversionDays: in.ConversionDays,
		CostPerMessage: in.CostPerMessage, ValuePerConversion: in.ValuePerConversion}
	var v kehu.Validation
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 100 {
		v.Add("name", "must have 1 to 100 characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		v.Add("description", "must have at most 1000 characters")
	}
	if err := s.checkSegment(ctx, &c, &v); err != nil {
		return c, err
	}
	if err := s.checkProduct(ctx, &c, &v); err != nil {
		return c, err
	}
	switch {
	case !contains(Channels, in.Channel):
		v.Add("channel", "must be one of "+join(Channels))
	case !IsMessage(in.Channel) && s.d.Tasks == nil:
		v.Add("channel", in.Channel+" creates staff tasks, which this server does not offer (no task module)")
	}
	if err := s.checkTemplate(ctx, &c, &v); err != nil {
		return c, err
	}
	if in.Purpose != policy.PurposeMarketing {
		v.Add("purpose", "must be marketing (service notices are not campaigns)")
	}
	checkSchedule(in.Schedule, now, &v)
	if in.ControlPct < 0 || in.ControlPct > MaxControlPct {
		v.Add("control_pct", fmt.Sprintf("must be between 0 and %d", MaxControlPct))
	}
	if in.ThrottlePerMinute < 0 || in.ThrottlePerMinute > MaxThrottle {
		v.Add("throttle_per_minute", fmt.Sprintf("must be between 0 (no throttle) and %d", MaxThrottle))
	}
	if in.ConversionDays < 1 || in.ConversionDays > MaxConversionDays {
		v.Add("conversion_days", fmt.Sprintf("must be between 1 and %d", MaxConversionDays))
	}
	if in.CostPerMessage < 0 {
		v.Add("cost_per_message", "must not be negative")
	}
	if in.ValuePerConversion < 0 {
		v.Add("value_per_conversion", "must not be negative")
	}
	return c, v.Err()
}

func (s *Service) checkSegment(ctx context.Context, c *Campaign, v *kehu.Validation) error {
	if c.SegmentID <= 0 {
		v.Add("segment_id", "is required")
		return nil
	}
	name, err := s.d.Store.SegmentName(ctx, c.SegmentID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.Add("segment_id", fmt.Sprintf("no segment %d", c.SegmentID))
		return nil
	}
	c.SegmentName = name
	return err
}

func (s *Service) checkProduct(ctx context.Context, c *Campaign, v *kehu.Validation) error {
	if c.ProductID == nil {
		return nil
	}
	p, err := s.d.Store.Product(ctx, *c.ProductID)
	switch {
	case kehu.ErrorCode(err) == kehu.ENOTFOUND:
		v.Add("product_id", fmt.Sprintf("no product %d", *c.ProductID))
	case err != nil:
		return err
	case p.Status != "on_sale":
		v.Add("product_id", fmt.Sprintf("product %s is not on sale (%s)", p.Code, p.Status))
	default:
		c.ProductName = p.Name
	}
	return nil
}

func (s *Service) checkTemplate(ctx context.Context, c *Campaign, v *kehu.Validation) error {
	want, message := OutboxChannel(c.Channel)
	if !message {
		if c.TemplateID != nil && contains(Channels, c.Channel) {
			v.Add("template_id", "the "+c.Channel+" channel sends no message: leave the template empty")
		}
		return nil
	}
	if c.TemplateID == nil {
		v.Add("template_id", "is required for the "+c.Channel+" channel")
		return nil
	}
	t, err := s.d.Store.Template(ctx, *c.TemplateID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.Add("template_id", fmt.Sprintf("no template %d", *c.TemplateID))
		return nil
	}
	if err != nil {
		return err
	}
	if t.Channel != want {
		v.Add("template_id", fmt.Sprintf("template %d is a %s template; the campaign sends %s", t.ID, t.Channel, want))
		return nil
	}
	if string(t.Purpose) != c.Purpose {
		v.Add("template_id", fmt.Sprintf("template %d is a %s template; a campaign markets", t.ID, t.Purpose))
		return nil
	}
	ok := available(c.ProductID != nil)
	for _, name := range t.Content.UsedVariables() {
		if !contains(ok, name) {
			reason := fmt.Sprintf("template %d uses {{%s}}, which a campaign cannot fill (available: %s)", t.ID, name, join(ok))
			if name == "product_name" {
				reason = fmt.Sprintf("template %d uses {{product_name}}: choose an offered product", t.ID)
			}
			v.Add("template_id", reason)
			return nil
		}
	}
	return nil
}

// pastSlack is how far in the past a start may be (a form filled a moment
// ago).
const pastSlack = 5 * time.Minute

func checkSchedule(sc Schedule, now time.Time, v *kehu.Validation) {
	if !contains(ScheduleKinds, sc.Kind) {
		v.Add("schedule.kind", "must be one of "+join(ScheduleKinds))
		return
	}
	if sc.StartAt != nil && sc.StartAt.Before(now.Add(-pastSlack)) {
		v.Add("schedule.start_at", "is in the past")
	}
	if !sc.Recurring() {
		if sc.EndAt != nil {
			v.Add("schedule.end_at", "only a recurring campaign has an end")
		}
		return
	}
	if sc.StartAt == nil {
		v.Add("schedule.start_at", "a recurring campaign needs its first run's time")
	}
	switch {
	case sc.EndAt == nil:
		v.Add("schedule.end_at", "a recurring campaign needs an end")
	case sc.StartAt != nil && !sc.EndAt.After(*sc.StartAt):
		v.Add("schedule.end_at", "must be after the start")
	case sc.StartAt != nil && sc.EndAt.Sub(*sc.StartAt) > MaxRecurrence:
		v.Add("schedule.end_at", "must be within a year of the start")
	}
}

// manager is the actor of a maker's action (campaign.manage).
func manager(ctx context.Context) (kehu.Actor, error) {
	return access.ActorWith(ctx, access.CampaignManage)
}

func newSeed() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

func newOwner() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "campaign-" + hex.EncodeToString(b[:])
}

// Create saves a new draft (campaign.manage) with its own holdout seed.
func (s *Service) Create(ctx context.Context, in Input) (Campaign, error) {
	a, err := manager(ctx)
	if err != nil {
		return Campaign{}, err
	}
	now := s.d.Clock.Now().UTC().Truncate(time.Microsecond)
	c, err := s.check(ctx, in, now)
	if err != nil {
		return Campaign{}, err
	}
	c.Status, c.Seed, c.CreatedBy, c.UpdatedBy, c.CreatedAt, c.UpdatedAt = Draft, newSeed(), a.UserID, a.UserID, now, now
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if err := s.d.Store.CreateCampaign(ctx, &c); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: ActionCreate, Object: object(c.ID), Changes: describe(Campaign{}, c)})
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.d.Store.GetCampaign(ctx, c.ID)
}

// Update replaces a campaign's definition (campaign.manage). A submitted
// or approved campaign returns to draft — its approval covered the old
// definition; a launched one cannot be changed (ECONFLICT).
func (s *Service) Update(ctx context.Context, id int64, in Input) (Campaign, error) {
	a, err := manager(ctx)
	if err != nil {
		return Campaign{}, err
	}
	now := s.d.Clock.Now().UTC().Truncate(time.Microsecond)
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.d.Store.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		if Launched(old.Status) {
			return kehu.Errorf(kehu.ECONFLICT, "campaign %d is %s: a launched campaign cannot be changed", id, old.Status)
		}
		c, err := s.check(ctx, in, now)
		if err != nil {
			return err
		}
		c.ID, c.Seed, c.CreatedBy, c.CreatedAt = old.ID, old.Seed, old.CreatedBy, old.CreatedAt
		c.Status, c.UpdatedBy, c.UpdatedAt = Draft, a.UserID, now
		changes := describe(old, c)
		if old.Status != Draft {
			changes = append(changes, audit.Change{Field: "status", Old: old.Status, New: Draft})
		}
		if err := s.d.Store.UpdateCampaign(ctx, c); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: ActionUpdate, Object: object(id), Changes: changes})
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.d.Store.GetCampaign(ctx, id)
}

// describe lists the definition fields that differ between old and c.
func describe(old, c Campaign) []audit.Change {
	var out []audit.Change
	add := func(field, o, n string) {
		if o != n {
			out = append(out, audit.Change{Field: field, Old: o, New: n})
		}
	}
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	tm := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339)
	}
	add("name", old.Name, c.Name)
	add("description", old.Description, c.Description)
	add("segment_id", strconv.FormatInt(old.SegmentID, 10), strconv.FormatInt(c.SegmentID, 10))
	add("product_id", opt(old.ProductID), opt(c.ProductID))
	add("channel", old.Channel, c.Channel)
	add("template_id", opt(old.TemplateID), opt(c.TemplateID))
	add("schedule", old.Schedule.Kind+" "+tm(old.Schedule.StartAt)+" "+tm(old.Schedule.EndAt),
		c.Schedule.Kind+" "+tm(c.Schedule.StartAt)+" "+tm(c.Schedule.EndAt))
	add("control_pct", strconv.Itoa(old.ControlPct), strconv.Itoa(c.ControlPct))
	add("throttle_per_minute", strconv.Itoa(old.ThrottlePerMinute), strconv.Itoa(c.ThrottlePerMinute))
	add("conversion_days", strconv.Itoa(old.ConversionDays), strconv.Itoa(c.ConversionDays))
	add("cost_per_message", strconv.FormatInt(old.CostPerMessage, 10), strconv.FormatInt(c.CostPerMessage, 10))
	add("value_per_conversion", strconv.FormatInt(old.ValuePerConversion, 10), strconv.FormatInt(c.ValuePerConversion, 10))
	return out
}
