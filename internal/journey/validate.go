package journey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// Limits of a definition.
const (
	MaxActions     = 5
	MaxReentryDays = 3650
	MaxWindowDays  = 90
	MaxDaysAhead   = 60
	MaxSuggested   = 8
	// MaxConversionDays bounds the conversion window (as campaigns').
	MaxConversionDays = 365
)

// TaskKinds a journey may create (the kinds of internal/task a journey uses).
var TaskKinds = []string{"call", "visit", "follow_up", "churn_alert", "lobby_alert"}

// ProductTypes a maturity journey may watch.
var ProductTypes = []string{"time_deposit", "wealth", "fund", "insurance"}

// Input is what a client sends to create or replace a journey.
type Input struct {
	Name        string
	Description string
	// Definition is the JSON of a Definition; unknown members are refused.
	Definition json.RawMessage
	// Status is active or paused ("" keeps the current one, active for a
	// new journey).
	Status string
}

// Refs checks that what a definition names exists.
type Refs interface {
	// Template returns the template's channel (ENOTFOUND for none).
	TemplateChannel(ctx context.Context, id int64) (string, error)
	SegmentExists(ctx context.Context, id int64) (bool, error)
	TagExists(ctx context.Context, id int64) (bool, error)
	ProductExists(ctx context.Context, id int64) (bool, error)
}

// parseDefinition decodes raw strictly and fills the defaults.
func parseDefinition(raw []byte) (Definition, error) {
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(raw)) == 0 {
		return d, fieldErr("definition", "is required")
	}
	if err := dec.Decode(&d); err != nil {
		return d, fieldErr("definition", "is not a journey definition: "+err.Error())
	}
	d.defaults()
	return d, nil
}

func fieldErr(field, reason string) error {
	var v kehu.Validation
	v.Add(field, reason)
	return v.Err()
}

// defaults fills the thresholds a trigger uses when left out.
func (d *Definition) defaults() {
	c := &d.Conditions
	switch d.Trigger {
	case LargeInflow:
		if c.MinAmount == 0 {
			c.MinAmount = DefaultInflowFen
		}
	case Maturity:
		if c.DaysAhead == 0 {
			c.DaysAhead = 7
		}
		if len(c.ProductTypes) == 0 {
			c.ProductTypes = []string{"time_deposit", "wealth"}
		}
	case ViewedNotBought:
		if c.ViewDays == 0 {
			c.ViewDays = 30
		}
	case Dormancy:
		if c.InactiveDays == 0 {
			c.InactiveDays = 90
		}
		if d.ReentryDays == 0 {
			// A dormant customer stays dormant: alert once per period.
			d.ReentryDays = c.InactiveDays
		}
	case LevelChange:
		if c.Direction == "" {
			c.Direction = "any"
		}
	}
	for i := range d.Actions {
		a := &d.Actions[i]
		if a.Kind == ActTask && a.AssignTo == "" {
			a.AssignTo = "owner"
			if a.TaskKind == "lobby_alert" {
				a.AssignTo = "queue"
			}
		}
		if a.Kind == ActTask && a.AssignTo == "queue" && a.QueueRole == "" {
			a.QueueRole = "lobby_manager"
		}
	}
}

// check validates d; fields are named as the API's ("definition.actions[0].template_id").
func (d *Definition) check(ctx context.Context, refs Refs) error {
	var v kehu.Validation
	const p = "definition."
	c := d.Conditions
	if !slices.Contains(Triggers, d.Trigger) {
		v.Add(p+"trigger", "must be one of "+strings.Join(Triggers, ", "))
	}
	switch {
	case c.MinAmount < 0:
		v.Add(p+"conditions.min_amount", "must not be negative")
	case c.WindowDays < 0 || c.WindowDays > MaxWindowDays:
		v.Add(p+"conditions.window_days", fmt.Sprintf("must be between 0 and %d", MaxWindowDays))
	case c.DaysAhead < 0 || c.DaysAhead > MaxDaysAhead:
		v.Add(p+"conditions.days_ahead", fmt.Sprintf("must be between 0 and %d", MaxDaysAhead))
	case c.ViewDays < 0 || c.ViewDays > 365:
		v.Add(p+"conditions.view_days", "must be between 0 and 365")
	case c.InactiveDays < 0 || (d.Trigger == Dormancy && c.InactiveDays < 7) || c.InactiveDays > 730:
		v.Add(p+"conditions.inactive_days", "must be between 7 and 730")
	}
	if c.Direction != "" && !slices.Contains([]string{"up", "down", "any"}, c.Direction) {
		v.Add(p+"conditions.direction", "must be up, down or any")
	}
	for i, t := range c.ProductTypes {
		if !slices.Contains(ProductTypes, t) {
			v.Add(fmt.Sprintf("%sconditions.product_types[%d]", p, i), "must be one of "+strings.Join(ProductTypes, ", "))
		}
	}
	if d.ReentryDays < 0 || d.ReentryDays > MaxReentryDays {
		v.Add(p+"reentry_days", fmt.Sprintf("must be between 0 and %d", MaxReentryDays))
	}
	if d.ControlPct < 0 || d.ControlPct > MaxControlPct {
		v.Add(p+"control_pct", fmt.Sprintf("must be a percentage between 0 and %d", MaxControlPct))
	}
	if d.ConversionDays < 0 || d.ConversionDays > MaxConversionDays {
		v.Add(p+"conversion_days", fmt.Sprintf("must be between 0 (the default, %d) and %d days", DefaultConversionDays,
			MaxConversionDays))
	}
	if d.CostPerMessage < 0 {
		v.Add(p+"cost_per_message", "must not be negative")
	}
	if d.ValuePerConversion < 0 {
		v.Add(p+"value_per_conversion", "must not be negative")
	}
	if d.SegmentID != 0 {
		if ok, err := refs.SegmentExists(ctx, d.SegmentID); err != nil {
			return err
		} else if !ok {
			v.Add(p+"segment_id", "no such segment")
		}
	}
	if d.ProductID != 0 {
		if ok, err := refs.ProductExists(ctx, d.ProductID); err != nil {
			return err
		} else if !ok {
			v.Add(p+"product_id", "no such product")
		}
	}
	if len(d.Actions) == 0 || len(d.Actions) > MaxActions {
		v.Add(p+"actions", fmt.Sprintf("must hold 1 to %d actions", MaxActions))
	}
	for i := range d.Actions {
		if err := d.Actions[i].check(ctx, refs, fmt.Sprintf("%sactions[%d].", p, i), &v); err != nil {
			return err
		}
	}
	return v.Err()
}

// check validates one action into v; it returns only errors of refs.
func (a *Action) check(ctx context.Context, refs Refs, p string, v *kehu.Validation) error {
	switch a.Kind {
	case ActMessage:
		if !msgtemplate.ValidChannel(msgtemplate.Channel(a.Channel)) {
			v.Add(p+"channel", "must be one of sms, push, wechat, email")
		}
		if a.TemplateID <= 0 {
			v.Add(p+"template_id", "is required")
			break
		}
		ch, err := refs.TemplateChannel(ctx, a.TemplateID)
		switch {
		case kehu.ErrorCode(err) == kehu.ENOTFOUND:
			v.Add(p+"template_id", "no such template")
		case err != nil:
			return err
		case ch != a.Channel:
			v.Add(p+"template_id", "is a "+ch+" template, not "+a.Channel)
		}
	case ActTask:
		if !slices.Contains(TaskKinds, a.TaskKind) {
			v.Add(p+"task_kind", "must be one of "+strings.Join(TaskKinds, ", "))
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(a.Title)); n == 0 || n > 200 {
			v.Add(p+"title", "must have 1 to 200 characters")
		}
		if a.AssignTo != "owner" && a.AssignTo != "queue" {
			v.Add(p+"assign_to", "must be owner or queue")
		}
		if len(a.Suggested) > MaxSuggested {
			v.Add(p+"suggested", fmt.Sprintf("must hold at most %d actions", MaxSuggested))
		}
		for i, s := range a.Suggested {
			if n := utf8.RuneCountInString(strings.TrimSpace(s)); n == 0 || n > 200 {
				v.Add(fmt.Sprintf("%ssuggested[%d]", p, i), "must have 1 to 200 characters")
			}
		}
		if a.DueDays < 0 || a.DueDays > 90 {
			v.Add(p+"due_days", "must be between 0 and 90")
		}
	case ActLead:
		if a.ProductID < 0 {
			v.Add(p+"product_id", "must not be negative")
		}
	case ActTag:
		if a.TagID <= 0 {
			v.Add(p+"tag_id", "is required")
		} else if ok, err := refs.TagExists(ctx, a.TagID); err != nil {
			return err
		} else if !ok {
			v.Add(p+"tag_id", "no such tag")
		}
		if a.ExpiresDays < 0 || a.ExpiresDays > 365 {
			v.Add(p+"expires_days", "must be between 0 and 365")
		}
	default:
		v.Add(p+"kind", "must be one of "+strings.Join(ActionKinds, ", "))
	}
	if a.ProductID > 0 && a.Kind != ActTag {
		if ok, err := refs.ProductExists(ctx, a.ProductID); err != nil {
			return err
		} else if !ok {
			v.Add(p+"product_id", "no such product")
		}
	}
	return nil
}

// checkInput validates the name, description and status of in.
func (in *Input) check(v *kehu.Validation) {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 100 {
		v.Add("name", "must have 1 to 100 characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		v.Add("description", "must have at most 1000 characters")
	}
	if in.Status != "" && in.Status != Active && in.Status != Paused {
		v.Add("status", "must be active or paused")
	}
}
