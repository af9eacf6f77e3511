// Package campaign is marketing campaigns (营销活动): an audience (a saved
// segment), an optional offered product, one channel, a message template
// pinned at approval, a schedule (once or recurring), a random control group
// held out to measure lift, a throttle, and the economics that turn the
// results into ROI. A campaign is made by one user and approved by another
// (maker-checker) before it can be launched. A launch runs in the server
// (Runner) in batches: each batch splits control from treatment, asks the
// contact policy, records the contacts, queues the messages in the outbox and
// moves the run's checkpoint in one transaction, so a killed launch resumes
// where it stopped and nobody is messaged twice. Results count the outbox's
// delivery and the purchases of the offered product within the conversion
// window, for treatment and control. The package knows no SQL or HTTP.
// docs/CAMPAIGNS.md.
package campaign

import (
	"context"
	"slices"
	"time"

	"kehu/internal/msgtemplate"
)

// Channels of a campaign. The first four are messages through the outbox;
// rm_task and call_list give the audience to staff as tasks.
const (
	SMS      = "sms"
	AppPush  = "app_push"
	Email    = "email"
	WeChat   = "wechat"
	RMTask   = "rm_task"
	CallList = "call_list"
)

// Channels lists the channels in the order the UI offers them.
var Channels = []string{SMS, AppPush, Email, WeChat, RMTask, CallList}

// PolicyChannel is the contact-policy channel a campaign channel contacts
// the customer through: an RM task is a visit or call by the RM, a call
// list a phone call.
func PolicyChannel(ch string) string {
	switch ch {
	case RMTask:
		return "rm_visit"
	case CallList:
		return "phone"
	}
	return ch
}

// OutboxChannel is the outbox channel of a message channel; false for the
// task channels.
func OutboxChannel(ch string) (msgtemplate.Channel, bool) {
	switch ch {
	case SMS:
		return msgtemplate.SMS, true
	case AppPush:
		return msgtemplate.Push, true
	case Email:
		return msgtemplate.Email, true
	case WeChat:
		return msgtemplate.WeChat, true
	}
	return "", false
}

// IsMessage reports whether ch sends messages through the outbox.
func IsMessage(ch string) bool { _, ok := OutboxChannel(ch); return ok }

// Statuses of a campaign.
const (
	Draft     = "draft"     // being written; editable
	Submitted = "submitted" // waiting for a checker
	Approved  = "approved"  // approved, not launched yet
	Scheduled = "scheduled" // launched; waiting for its next run
	Running   = "running"   // a run is queueing
	Paused    = "paused"    // launched, held: no run starts or continues
	Completed = "completed" // its last run finished
	Cancelled = "cancelled" // stopped for good; unsent messages withdrawn
)

// Statuses lists them in lifecycle order.
var Statuses = []string{Draft, Submitted, Approved, Scheduled, Running, Paused, Completed, Cancelled}

// Launched reports whether a campaign in status s has been launched.
func Launched(s string) bool {
	return slices.Contains([]string{Scheduled, Running, Paused, Completed, Cancelled}, s)
}

// Schedule kinds.
const (
	Once    = "once"
	Daily   = "daily"
	Weekly  = "weekly"
	Monthly = "monthly"
)

// ScheduleKinds lists them.
var ScheduleKinds = []string{Once, Daily, Weekly, Monthly}

// Schedule says when a campaign's runs start. A once campaign runs at
// StartAt (nil: as soon as it is launched). A recurring one runs at StartAt
// and then every day, week or month at the same Shanghai wall-clock time,
// while the run's time is not after EndAt.
type Schedule struct {
	Kind    string     `json:"kind"`
	StartAt *time.Time `json:"start_at"`
	EndAt   *time.Time `json:"end_at"`
}

// Recurring reports whether the schedule repeats.
func (s Schedule) Recurring() bool { return s.Kind != Once && s.Kind != "" }

// Occurrence returns the start of the n-th run (n ≥ 1) of a recurring
// schedule, in Shanghai wall-clock terms (a monthly run on the 31st falls
// on the next month's overflow day as time.AddDate does).
func (s Schedule) Occurrence(n int, loc *time.Location) time.Time {
	t := s.StartAt.In(loc)
	switch s.Kind {
	case Daily:
		t = t.AddDate(0, 0, n-1)
	case Weekly:
		t = t.AddDate(0, 0, 7*(n-1))
	case Monthly:
		t = t.AddDate(0, n-1, 0)
	}
	return t.UTC()
}

// Next returns the first occurrence after `after` and its number (≥ from),
// false when it would fall after EndAt: the time of the next run of a
// recurring campaign. A missed occurrence (the server was down) is skipped,
// not run late one after another.
func (s Schedule) Next(from int, after time.Time, loc *time.Location) (int, time.Time, bool) {
	if !s.Recurring() || s.StartAt == nil || s.EndAt == nil {
		return 0, time.Time{}, false
	}
	for n := from; ; n++ {
		t := s.Occurrence(n, loc)
		if t.After(*s.EndAt) {
			return 0, time.Time{}, false
		}
		if t.After(after) {
			return n, t, true
		}
	}
}

// Campaign is a stored campaign.
type Campaign struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SegmentID   int64  `json:"segment_id"`
	SegmentName string `json:"segment_name"`
	// ProductID is the offered product (nil: none); suitability applies to
	// it and conversions are its purchases.
	ProductID   *int64 `json:"product_id"`
	ProductName string `json:"product_name"`
	Channel     string `json:"channel"`
	// TemplateID is the message template (message channels); its version
	// is pinned when the campaign is approved (0 before).
	TemplateID      *int64   `json:"template_id"`
	TemplateVersion int      `json:"template_version"`
	Purpose         string   `json:"purpose"`
	Schedule        Schedule `json:"schedule"`
	// ControlPct is the share of the audience held out (0–50).
	ControlPct int `json:"control_pct"`
	// Seed makes the holdout a fixed function of the customer.
	Seed int64 `json:"-"`
	// ThrottlePerMinute spreads the messages of a run (0: no spread).
	ThrottlePerMinute int `json:"throttle_per_minute"`
	// ConversionDays is the attribution window after a run starts.
	ConversionDays int `json:"conversion_days"`
	// HoldHours is how long a message may stay held by a pause past its own
	// send time: a resume withdraws older ones as expired (their content —
	// a rate, a quota, "this week" — has gone stale), 1–720, default 72.
	HoldHours int `json:"hold_hours"`
	// CostPerMessage and ValuePerConversion are in fen.
	CostPerMessage     int64      `json:"cost_per_message"`
	ValuePerConversion int64      `json:"value_per_conversion"`
	Status             string     `json:"status"`
	RejectReason       string     `json:"reject_reason,omitempty"`
	CreatedBy          int64      `json:"created_by"`
	UpdatedBy          int64      `json:"updated_by"`
	SubmittedBy        *int64     `json:"submitted_by"`
	SubmittedAt        *time.Time `json:"submitted_at"`
	ApprovedBy         *int64     `json:"approved_by"`
	ApprovedAt         *time.Time `json:"approved_at"`
	LaunchedBy         *int64     `json:"launched_by"`
	LaunchedAt         *time.Time `json:"launched_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	// HeldMessages is how many queued messages the outbox holds while the
	// campaign is paused (counted for one campaign read, not in lists).
	HeldMessages int64 `json:"held_messages"`
	// QueuedMessages is how many of a completed campaign's messages the
	// outbox has not sent yet (a throttled backlog a pause can still hold;
	// counted for one campaign read, not in lists).
	QueuedMessages int64 `json:"queued_messages"`
}

// HeldMessage is one message a pause holds, as Resume plans its release.
type HeldMessage struct {
	ID, CustomerID int64
	// Due is the message's own send time (throttle slot or deferral end).
	Due time.Time
}

// ReleasePlan returns, for held messages in the order of their own send
// times, each one's new send time, or the zero time when it expired.
type ReleasePlan func(ctx context.Context, held []HeldMessage) ([]time.Time, error)

// ReasonExpired is the suppression reason of a member whose held message a
// resume withdrew because it was held longer than the campaign's HoldHours.
const ReasonExpired = "expired"

// Run statuses.
const (
	RunPending   = "pending"   // due at DueAt, or paused with a checkpoint
	RunRunning   = "running"   // claimed; alive while its heartbeat is fresh
	RunDone      = "done"      // the whole audience was decided
	RunCancelled = "cancelled" // the campaign was cancelled
	RunFailed    = "failed"    // stopped by an error that retrying cannot fix
)

// Run is one numbered run of a campaign (a once campaign has run 1).
type Run struct {
	CampaignID int64      `json:"campaign_id"`
	Number     int        `json:"run"`
	Status     string     `json:"status"`
	DueAt      time.Time  `json:"due_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Heartbeat  *time.Time `json:"heartbeat_at"`
	// Checkpoint is the last customer id decided: a resumed run continues
	// after it.
	Checkpoint int64 `json:"checkpoint"`
	// Counts so far.
	Audience   int64  `json:"audience"`
	Control    int64  `json:"control"`
	Queued     int64  `json:"queued"`
	Deferred   int64  `json:"deferred"`
	Suppressed int64  `json:"suppressed"`
	Error      string `json:"error,omitempty"`
}

// Groups of a member.
const (
	Treatment = "treatment"
	Control   = "control"
)

// Outcomes of a member.
const (
	OutcomeHeldOut    = "held_out"   // control group: no contact
	OutcomeQueued     = "queued"     // a message is queued now (throttled: NotBefore)
	OutcomeDeferred   = "deferred"   // queued for after the quiet hours
	OutcomeSuppressed = "suppressed" // the contact policy refused; Reason says why
	OutcomeTask       = "task"       // an RM task or call-list entry was created
)

// Member is one customer of one run.
type Member struct {
	CampaignID int64  `json:"campaign_id"`
	Run        int    `json:"run"`
	CustomerID int64  `json:"customer_id"`
	Group      string `json:"group"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason,omitempty"`
	MessageID  *int64 `json:"message_id"`
	TaskID     *int64 `json:"task_id"`
	// MessageStatus is the outbox status of the message (reads only).
	MessageStatus string `json:"message_status,omitempty"`
}

// Product is what a campaign needs of the offered product.
type Product struct {
	ID     int64
	Code   string
	Name   string
	Type   string
	Status string
}
