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
	HoldHours          int
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
	// MaxHoldHours and DefaultHoldHours bound how long a paused campaign's
	// message may be held past its own send time (docs/CAMPAIGNS.md).
	MaxHoldHours     = 720
	DefaultHoldHours = 72
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
	if in.HoldHours == 0 {
		in.HoldHours = DefaultHoldHours
	}
	if in.Schedule.Kind == "" {
		in.Schedule.Kind = Once
	}
	c := Campaign{Name: in.Name, Description: in.Description, SegmentID: in.SegmentID, ProductID: in.ProductID,
		Channel: in.Channel, TemplateID: in.TemplateID, Purpose: in.Purpose, Schedule: in.Schedule,
		ControlPct: in.ControlPct, ThrottlePerMinute: in.ThrottlePerMinute, ConversionDays: in.ConversionDays,
		HoldHours: in.HoldHours, CostPerMessage: in.CostPerMessage, ValuePerConversion: in.ValuePerConversion}
	var v reasons
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 100 {
		v.add("name", "需要 1 至 100 个字", "must have 1 to 100 characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		v.add("description", "最多 1000 个字", "must have at most 1000 characters")
	}
	if err := s.checkSegment(ctx, &c, &v); err != nil {
		return c, err
	}
	if err := s.checkProduct(ctx, &c, &v); err != nil {
		return c, err
	}
	switch {
	case !contains(Channels, in.Channel):
		v.add("channel", "请选择列出的渠道之一", "must be one of "+join(Channels))
	case !IsMessage(in.Channel) && s.d.Tasks == nil:
		v.add("channel", zhName(channelZH, in.Channel)+"会给员工派发待办，本服务器未启用待办模块",
			in.Channel+" creates staff tasks, which this server does not offer (no task module)")
	}
	if err := s.checkTemplate(ctx, &c, &v); err != nil {
		return c, err
	}
	if in.Purpose != policy.PurposeMarketing {
		v.add("purpose", "只能是营销（服务通知不是营销活动）", "must be marketing (service notices are not campaigns)")
	}
	checkSchedule(in.Schedule, now, &v)
	if in.ControlPct < 0 || in.ControlPct > MaxControlPct {
		v.add("control_pct", fmt.Sprintf("须在 0 至 %d%% 之间", MaxControlPct), fmt.Sprintf("must be between 0 and %d", MaxControlPct))
	}
	if in.ThrottlePerMinute < 0 || in.ThrottlePerMinute > MaxThrottle {
		v.add("throttle_per_minute", fmt.Sprintf("须在 0（不限速）至 %d 之间", MaxThrottle),
			fmt.Sprintf("must be between 0 (no throttle) and %d", MaxThrottle))
	}
	if in.ConversionDays < 1 || in.ConversionDays > MaxConversionDays {
		v.add("conversion_days", fmt.Sprintf("须在 1 至 %d 天之间", MaxConversionDays),
			fmt.Sprintf("must be between 1 and %d", MaxConversionDays))
	}
	if in.HoldHours < 1 || in.HoldHours > MaxHoldHours {
		v.add("hold_hours", fmt.Sprintf("须在 1 至 %d 小时之间", MaxHoldHours),
			fmt.Sprintf("must be between 1 and %d", MaxHoldHours))
	}
	if in.CostPerMessage < 0 {
		v.add("cost_per_message", "不能为负数", "must not be negative")
	}
	if in.ValuePerConversion < 0 {
		v.add("value_per_conversion", "不能为负数", "must not be negative")
	}
	return c, v.err()
}

func (s *Service) checkSegment(ctx context.Context, c *Campaign, v *reasons) error {
	if c.SegmentID <= 0 {
		v.add("segment_id", "请选择目标客群", "is required")
		return nil
	}
	name, err := s.d.Store.SegmentName(ctx, c.SegmentID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.add("segment_id", fmt.Sprintf("客群 %d 不存在", c.SegmentID), fmt.Sprintf("no segment %d", c.SegmentID))
		return nil
	}
	c.SegmentName = name
	return err
}

func (s *Service) checkProduct(ctx context.Context, c *Campaign, v *reasons) error {
	if c.ProductID == nil {
		return nil
	}
	p, err := s.d.Store.Product(ctx, *c.ProductID)
	switch {
	case kehu.ErrorCode(err) == kehu.ENOTFOUND:
		v.add("product_id", fmt.Sprintf("产品 %d 不存在", *c.ProductID), fmt.Sprintf("no product %d", *c.ProductID))
	case err != nil:
		return err
	case p.Status != "on_sale":
		v.add("product_id", fmt.Sprintf("产品 %s 不在销售中（%s）", p.Code, p.Status),
			fmt.Sprintf("product %s is not on sale (%s)", p.Code, p.Status))
	default:
		c.ProductName = p.Name
	}
	return nil
}

func (s *Service) checkTemplate(ctx context.Context, c *Campaign, v *reasons) error {
	want, message := OutboxChannel(c.Channel)
	if !message {
		if c.TemplateID != nil && contains(Channels, c.Channel) {
			v.add("template_id", zhName(channelZH, c.Channel)+"渠道不发消息，请不要选择模板",
				"the "+c.Channel+" channel sends no message: leave the template empty")
		}
		return nil
	}
	if c.TemplateID == nil {
		v.add("template_id", zhName(channelZH, c.Channel)+"渠道需要选择消息模板", "is required for the "+c.Channel+" channel")
		return nil
	}
	t, err := s.d.Store.Template(ctx, *c.TemplateID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.add("template_id", fmt.Sprintf("模板 %d 不存在", *c.TemplateID), fmt.Sprintf("no template %d", *c.TemplateID))
		return nil
	}
	if err != nil {
		return err
	}
	if t.Channel != want {
		v.add("template_id", fmt.Sprintf("模板 %d 是%s模板，本活动发送%s", t.ID, zhName(channelZH, string(t.Channel)),
			zhName(channelZH, string(want))),
			fmt.Sprintf("template %d is a %s template; the campaign sends %s", t.ID, t.Channel, want))
		return nil
	}
	if string(t.Purpose) != c.Purpose {
		v.add("template_id", fmt.Sprintf("模板 %d 是服务通知模板，营销活动只能使用营销模板", t.ID),
			fmt.Sprintf("template %d is a %s template; a campaign markets", t.ID, t.Purpose))
		return nil
	}
	ok := available(c.ProductID != nil)
	for _, name := range t.Content.UsedVariables() {
		if !contains(ok, name) {
			zh := fmt.Sprintf("模板 %d 使用了 {{%s}}，营销活动无法填写（可用：%s）", t.ID, name, join(ok))
			en := fmt.Sprintf("template %d uses {{%s}}, which a campaign cannot fill (available: %s)", t.ID, name, join(ok))
			if name == "product_name" {
				zh = fmt.Sprintf("模板 %d 使用了 {{product_name}}，请选择推荐产品", t.ID)
				en = fmt.Sprintf("template %d uses {{product_name}}: choose an offered product", t.ID)
			}
			v.add("template_id", zh, en)
			return nil
		}
	}
	return nil
}

// pastSlack is how far in the past a start may be (a form filled a moment
// ago).
const pastSlack = 5 * time.Minute

func checkSchedule(sc Schedule, now time.Time, v *reasons) {
	if !contains(ScheduleKinds, sc.Kind) {
		v.add("schedule.kind", "请选择列出的频率之一", "must be one of "+join(ScheduleKinds))
		return
	}
	if sc.StartAt != nil && sc.StartAt.Before(now.Add(-pastSlack)) {
		v.add("schedule.start_at", "不能早于现在", "is in the past")
	}
	if !sc.Recurring() {
		if sc.EndAt != nil {
			v.add("schedule.end_at", "只有周期性活动才有结束时间", "only a recurring campaign has an end")
		}
		return
	}
	if sc.StartAt == nil {
		v.add("schedule.start_at", "周期性活动需要首次执行时间", "a recurring campaign needs its first run's time")
	}
	switch {
	case sc.EndAt == nil:
		v.add("schedule.end_at", "周期性活动需要结束时间", "a recurring campaign needs an end")
	case sc.StartAt != nil && !sc.EndAt.After(*sc.StartAt):
		v.add("schedule.end_at", "须晚于开始时间", "must be after the start")
	case sc.StartAt != nil && sc.EndAt.Sub(*sc.StartAt) > MaxRecurrence:
		v.add("schedule.end_at", "须在开始后一年之内", "must be within a year of the start")
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
			return refuse(kehu.ECONFLICT, fmt.Sprintf("活动 %d 当前为「%s」，已投放的活动不能修改", id, zhName(statusZH, old.Status)),
				fmt.Sprintf("campaign %d is %s: a launched campaign cannot be changed", id, old.Status))
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
	add("hold_hours", strconv.Itoa(old.HoldHours), strconv.Itoa(c.HoldHours))
	add("cost_per_message", strconv.FormatInt(old.CostPerMessage, 10), strconv.FormatInt(c.CostPerMessage, 10))
	add("value_per_conversion", strconv.FormatInt(old.ValuePerConversion, 10), strconv.FormatInt(c.ValuePerConversion, 10))
	return out
}
