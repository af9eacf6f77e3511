// Package journey runs event-triggered marketing rules: a large inflow, a
// salary, a maturing deposit or wealth product, a birthday (solar or lunar),
// a product viewed in the app but not bought (alert the lobby manager on the
// next branch visit), dormancy (churn alert to the RM) and a level change.
// A journey names its trigger and thresholds, an optional segment, its
// actions (message through the contact policy and the outbox, RM task, lead,
// tag) and a re-entry rule. The Engine subscribes to the feeds, evaluates
// live events within a second and the daily triggers once a night, and
// records every firing with the outcome of each action in the transaction
// of the actions, so a replay fires nothing twice. It knows no HTTP or SQL.
// docs/JOURNEYS.md.
package journey

import (
	"encoding/json"
	"time"

	"kehu/internal/kehu"
)

// Triggers.
const (
	LargeInflow      = "large_inflow"
	Salary           = "salary"
	Maturity         = "maturity"
	Birthday         = "birthday"
	ViewedNotBought  = "viewed_not_bought"
	Dormancy         = "dormancy"
	LevelChange      = "level_change"
	DefaultInflowFen = 10_000_000 // ¥100,000
)

// Triggers lists the triggers in the editor's order.
var Triggers = []string{LargeInflow, Salary, Maturity, Birthday, ViewedNotBought, Dormancy, LevelChange}

// Daily reports whether a trigger is evaluated by the daily scan rather
// than on live events.
func Daily(trigger string) bool {
	return trigger == Maturity || trigger == Birthday || trigger == Dormancy
}

// Statuses of a journey.
const (
	Active = "active"
	Paused = "paused"
)

// Action kinds.
const (
	ActMessage = "message"
	ActTask    = "task"
	ActLead    = "lead"
	ActTag     = "tag"
)

// ActionKinds lists the action kinds.
var ActionKinds = []string{ActMessage, ActTask, ActLead, ActTag}

// Action outcomes, stable: stored in journey_actions and counted in the
// results.
const (
	OutQueued      = "queued"
	OutDeferred    = "deferred" // queued to be sent after quiet hours
	OutSuppressed  = "suppressed"
	OutDuplicate   = "duplicate"
	OutTaskCreated = "task_created"
	OutLeadCreated = "lead_created"
	OutTagged      = "tagged"
	OutFailed      = "failed"
	// OutControl: the customer is in the journey's control group; the
	// action was not run.
	OutControl = "control"
)

// Conditions are the thresholds of a trigger; each trigger reads its own.
type Conditions struct {
	// MinAmount (fen) of large_inflow: one credit at least this much, or,
	// with WindowDays > 0, the credits of the last WindowDays days summing
	// to at least this much. Salary: the least salary amount (0: any).
	MinAmount  int64 `json:"min_amount,omitempty"`
	WindowDays int   `json:"window_days,omitempty"`
	// DaysAhead of maturity: fire for holdings maturing within this many
	// days (default 7). ProductTypes limits them (time_deposit, wealth,
	// fund, insurance; default time_deposit and wealth).
	DaysAhead    int      `json:"days_ahead,omitempty"`
	ProductTypes []string `json:"product_types,omitempty"`
	// ViewDays of viewed_not_bought: a product view of the last ViewDays
	// days (default 30) not followed by a purchase of the product.
	ViewDays int `json:"view_days,omitempty"`
	// InactiveDays of dormancy: no login and no transaction for this many
	// days (default 90).
	InactiveDays int `json:"inactive_days,omitempty"`
	// Direction of level_change: up, down or any (default any). Levels
	// ascend in the order of the level rules (LevelOrder).
	Direction string `json:"direction,omitempty"`
	// ToLevel limits level_change to changes into one level ("": any).
	ToLevel string `json:"to_level,omitempty"`
}

// Action is one thing a journey does for a customer when it fires.
type Action struct {
	Kind string `json:"kind"`
	// Message: Channel (sms, push, wechat, email) and TemplateID; the
	// current version of the template at firing time is sent.
	Channel    string `json:"channel,omitempty"`
	TemplateID int64  `json:"template_id,omitempty"`
	// Task: TaskKind (call, visit, follow_up, churn_alert, lobby_alert),
	// Title, suggested Actions, and where it goes: "owner" (the customer's
	// RM) or "queue" (QueueRole at the outlet of the event, or the
	// customer's organisation). DueDays: due this many days after firing.
	TaskKind  string   `json:"task_kind,omitempty"`
	Title     string   `json:"title,omitempty"`
	Suggested []string `json:"suggested,omitempty"`
	AssignTo  string   `json:"assign_to,omitempty"`
	QueueRole string   `json:"queue_role,omitempty"`
	DueDays   int      `json:"due_days,omitempty"`
	// ProductID: the product of a lead, or the product a message offers
	// (contact policy: suitability and the quiet period apply). Zero on a
	// maturity or viewed_not_bought journey means the product of the event.
	ProductID int64 `json:"product_id,omitempty"`
	// Tag: TagID and ExpiresDays (0: the tag's own default).
	TagID       int64 `json:"tag_id,omitempty"`
	ExpiresDays int   `json:"expires_days,omitempty"`
}

// Definition is what a version of a journey says.
type Definition struct {
	Trigger    string     `json:"trigger"`
	Conditions Conditions `json:"conditions"`
	// SegmentID limits the journey to a segment's customers (0: anyone).
	SegmentID int64    `json:"segment_id,omitempty"`
	Actions   []Action `json:"actions"`
	// ReentryDays: a customer fires at most once per ReentryDays days per
	// journey (0: once per trigger event).
	ReentryDays int `json:"reentry_days"`
	// ProductID is the product a conversion counts (a later holding of it).
	ProductID int64 `json:"product_id,omitempty"`
	// ControlPct holds this percentage (0–50) of the customers out: a
	// firing for a customer of the control group (lift.InControl over the
	// journey's seed and the customer id, so the same customer is always in
	// the same group) is recorded with outcome control and runs no action,
	// so the results can compare the two groups' conversions.
	ControlPct int `json:"control_pct,omitempty"`
	// ConversionDays is the window after a firing in which a holding or
	// account of ProductID counts as a conversion (0: DefaultConversionDays).
	ConversionDays int `json:"conversion_days,omitempty"`
	// CostPerMessage and ValuePerConversion (fen) give the results a cost,
	// a value and a return on investment.
	CostPerMessage     int64 `json:"cost_per_message,omitempty"`
	ValuePerConversion int64 `json:"value_per_conversion,omitempty"`
}

// DefaultConversionDays is the conversion window of a definition naming none.
const DefaultConversionDays = 30

// Window returns the conversion window in days.
func (d Definition) Window() int {
	if d.ConversionDays <= 0 {
		return DefaultConversionDays
	}
	return d.ConversionDays
}

// JSON returns the stored form of d.
func (d Definition) JSON() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// Journey is a saved journey at its current version.
type Journey struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	Version     int        `json:"version"`
	Definition  Definition `json:"definition"`
	CreatedBy   int64      `json:"created_by"`
	UpdatedBy   int64      `json:"updated_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Version is one saved version of a journey.
type Version struct {
	Version    int        `json:"version"`
	Name       string     `json:"name"`
	Definition Definition `json:"definition"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

// ActionOutcome is what became of one action of a firing.
type ActionOutcome struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	// Reason: the contact-policy reason of a suppression or deferral, or
	// why an action failed.
	Reason string `json:"reason,omitempty"`
	// RefID: the message, task or lead created (0 for none).
	RefID int64 `json:"ref_id,omitempty"`
}

// Firing is one journey acting for one customer on one trigger event.
type Firing struct {
	ID         int64  `json:"id"`
	JourneyID  int64  `json:"journey_id"`
	Version    int    `json:"version"`
	CustomerID int64  `json:"customer_id"`
	Ref        string `json:"ref"`
	// Group is treatment, or control when the customer was held out and no
	// action ran.
	Group      string    `json:"group"`
	OccurredAt time.Time `json:"occurred_at"`
	FiredAt    time.Time `json:"fired_at"`
	// FiredOn is the Asia/Shanghai day of FiredAt: the first day of the
	// conversion window and the day the results' period filters on.
	FiredOn  kehu.Date       `json:"fired_on"`
	Outcomes []ActionOutcome `json:"outcomes"`
}
