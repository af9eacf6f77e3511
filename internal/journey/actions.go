package journey

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/tag"
)

// fire applies the re-entry rule, records the firing unless it is a replay,
// and performs the actions, all in the transaction in ctx.
func (e *Engine) fire(ctx context.Context, c candidate, now time.Time) (Firing, bool, error) {
	d := c.j.Definition
	if d.ReentryDays > 0 {
		last, ok, err := e.d.Store.LastFiring(ctx, c.j.ID, c.customerID)
		if err != nil {
			return Firing{}, false, err
		}
		if ok && now.Sub(last) < time.Duration(d.ReentryDays)*24*time.Hour {
			return Firing{}, false, nil
		}
	}
	f := e.newFiring(c, now)
	inserted, err := e.d.Store.InsertFiring(ctx, &f)
	if err != nil || !inserted {
		return Firing{}, false, err
	}
	if f.Group == Control {
		// Held out: the firing counts (and the re-entry rule holds), but
		// nothing is sent, assigned or tagged, so the control group's
		// conversions show what would have happened without the journey.
		for _, a := range d.Actions {
			f.Outcomes = append(f.Outcomes, ActionOutcome{Kind: a.Kind, Outcome: OutControl})
		}
		return f, true, e.d.Store.SaveOutcomes(ctx, f)
	}
	for i, a := range d.Actions {
		o, err := e.act(ctx, c, f, i, a, now)
		if err != nil {
			return Firing{}, false, fmt.Errorf("journey %d action %d (%s): %w", c.j.ID, i, a.Kind, err)
		}
		f.Outcomes = append(f.Outcomes, o)
	}
	return f, true, e.d.Store.SaveOutcomes(ctx, f)
}

// newFiring is c's firing at now, in the customer's group.
func (e *Engine) newFiring(c candidate, now time.Time) Firing {
	f := Firing{JourneyID: c.j.ID, Version: c.j.Version, CustomerID: c.customerID, Ref: c.ref, Group: Treatment,
		OccurredAt: c.at.UTC(), FiredAt: now, FiredOn: kehu.DateOf(now.In(e.loc))}
	if InControl(c.j.ID, c.customerID, c.j.Definition.ControlPct) {
		f.Group = Control
	}
	return f
}

// refused reports whether err says the action cannot be done (a deleted
// template or tag, a customer without an RM) rather than that the database
// failed: the former is recorded as the action's outcome.
func refused(err error) bool {
	switch kehu.ErrorCode(err) {
	case kehu.EINVALID, kehu.ENOTFOUND, kehu.ECONFLICT:
		return true
	}
	return false
}

func (e *Engine) act(ctx context.Context, c candidate, f Firing, seq int, a Action, now time.Time) (ActionOutcome, error) {
	key := "journey:" + strconv.FormatInt(c.j.ID, 10) + ":" + strconv.FormatInt(c.customerID, 10) + ":" + c.ref + ":" +
		strconv.Itoa(seq)
	var o ActionOutcome
	var err error
	switch a.Kind {
	case ActMessage:
		o, err = e.message(ctx, c, a, key, now)
	case ActTag:
		o, err = e.tag(ctx, c, a, now)
	case ActTask:
		o, err = e.task(ctx, c, a, key, now)
	case ActLead:
		o, err = e.lead(ctx, c, a, key)
	default:
		err = kehu.Errorf(kehu.EINVALID, "unknown action %q", a.Kind)
	}
	if err != nil && refused(err) {
		return ActionOutcome{Kind: a.Kind, Outcome: OutFailed, Reason: kehu.ErrorMessage(err)}, nil
	}
	o.Kind = a.Kind
	return o, err
}

// policyChannel is the contact-policy channel of a delivery channel.
func policyChannel(ch string) string {
	if ch == string(msgtemplate.Push) {
		return "app_push"
	}
	return ch
}

// message asks the contact policy and queues the template's current
// version: allowed now, or held until the deferral ends (quiet hours), or
// not at all (suppressed, with the reason counted for the journey).
func (e *Engine) message(ctx context.Context, c candidate, a Action, key string, now time.Time) (ActionOutcome, error) {
	t, err := e.d.Templates.GetTemplate(ctx, a.TemplateID)
	if err != nil {
		return ActionOutcome{}, err
	}
	product := a.ProductID
	if product == 0 {
		product = c.productID
	}
	purpose := string(t.Purpose)
	req := policy.Request{CustomerID: c.customerID, Channel: policyChannel(a.Channel), Purpose: purpose, At: now}
	if purpose == policy.PurposeMarketing {
		req.ProductID = product
	}
	dec, err := e.d.Policy.Decide(ctx, req)
	if err != nil {
		return ActionOutcome{}, err
	}
	if dec.Outcome == policy.Suppress {
		var tally policy.Tally
		tally.Add(dec)
		if err := e.d.Policy.SaveTally(ctx, policy.SourceJourney, c.j.ID, tally); err != nil {
			return ActionOutcome{}, err
		}
		return ActionOutcome{Outcome: OutSuppressed, Reason: dec.Reason()}, nil
	}
	data := c.data
	if product != 0 {
		if data.ProductName, err = e.d.Store.ProductName(ctx, product); err != nil {
			return ActionOutcome{}, err
		}
	}
	n := outbox.New{SourceKind: policy.SourceJourney, SourceID: c.j.ID, CustomerID: c.customerID,
		Channel: msgtemplate.Channel(a.Channel), DedupKey: key, TemplateID: t.ID, TemplateVersion: t.Version,
		Data: &data}
	o := ActionOutcome{Outcome: OutQueued}
	at := now
	if dec.Outcome == policy.Defer && dec.DeferUntil != nil {
		n.NotBefore, at = *dec.DeferUntil, *dec.DeferUntil
		o = ActionOutcome{Outcome: OutDeferred, Reason: dec.Reason()}
	}
	res, err := e.d.Queue.Enqueue(ctx, []outbox.New{n})
	if err != nil {
		return ActionOutcome{}, err
	}
	if res.Queued == 0 {
		return ActionOutcome{Outcome: OutDuplicate}, nil
	}
	err = e.d.Policy.RecordContacts(ctx, []policy.Contact{{CustomerID: c.customerID, Channel: req.Channel,
		Purpose: purpose, SourceKind: policy.SourceJourney, SourceID: c.j.ID, ProductID: req.ProductID, At: at}})
	return o, err
}

// tag puts a manual tag on the customer, expiring after ExpiresDays (or
// the tag's default) at the end of that Shanghai day.
func (e *Engine) tag(ctx context.Context, c candidate, a Action, now time.Time) (ActionOutcome, error) {
	t, err := e.d.Tags.GetTag(ctx, a.TagID)
	if err != nil {
		return ActionOutcome{}, err
	}
	if t.Kind == tag.Computed || !t.Active {
		return ActionOutcome{}, kehu.Errorf(kehu.EINVALID, "tag %q cannot be put on by a journey", t.Name)
	}
	ct := tag.CustomerTag{Tag: t, Reason: "旅程 " + c.j.Name, CreatedAt: now.Truncate(time.Microsecond)}
	days := a.ExpiresDays
	if days == 0 {
		days = t.DefaultExpiryDays
	}
	if days > 0 {
		l := now.In(e.loc)
		end := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, e.loc).AddDate(0, 0, days+1).UTC()
		ct.ExpiresAt = &end
	}
	if err := e.d.Tags.PutCustomerTag(ctx, c.customerID, ct); err != nil {
		return ActionOutcome{}, err
	}
	return ActionOutcome{Outcome: OutTagged, RefID: t.ID}, nil
}

// task creates an RM task: to the customer's RM (the task service picks the
// RM queue of the customer's outlet when there is none), or to a queue
// (QueueRole) at the outlet of the event, else at the customer's
// organisation.
func (e *Engine) task(ctx context.Context, c candidate, a Action, key string, now time.Time) (ActionOutcome, error) {
	if e.d.Work == nil {
		return ActionOutcome{}, kehu.Errorf(kehu.EINVALID, "RM tasks are not available in this server")
	}
	r := TaskRequest{Kind: a.TaskKind, Title: a.Title, Suggested: a.Suggested, CustomerID: c.customerID,
		ProductID: c.productID, JourneyID: c.j.ID, DedupKey: key, Detail: "旅程 " + c.j.Name}
	if a.ProductID != 0 {
		r.ProductID = a.ProductID
	}
	if a.AssignTo == "queue" {
		r.QueueRole, r.QueueOrgID = a.QueueRole, c.outletOrgID
		if r.QueueOrgID == 0 {
			who, err := e.d.Store.Who(ctx, c.customerID)
			if err != nil {
				return ActionOutcome{}, err
			}
			r.QueueOrgID = who.OrgID
		}
	}
	if a.DueDays > 0 {
		due := now.AddDate(0, 0, a.DueDays)
		r.DueAt = &due
	}
	created, err := e.d.Work.CreateTask(ctx, r)
	if err != nil {
		return ActionOutcome{}, err
	}
	if !created {
		return ActionOutcome{Outcome: OutDuplicate}, nil
	}
	return ActionOutcome{Outcome: OutTaskCreated}, nil
}

// lead creates a lead for the customer's RM on the action's product (or the
// event's).
func (e *Engine) lead(ctx context.Context, c candidate, a Action, key string) (ActionOutcome, error) {
	if e.d.Work == nil {
		return ActionOutcome{}, kehu.Errorf(kehu.EINVALID, "leads are not available in this server")
	}
	who, err := e.d.Store.Who(ctx, c.customerID)
	if err != nil {
		return ActionOutcome{}, err
	}
	product := a.ProductID
	if product == 0 {
		product = c.productID
	}
	created, err := e.d.Work.CreateLead(ctx, LeadRequest{CustomerID: c.customerID, ProductID: product,
		AssigneeID: who.OwnerID, Note: "旅程 " + c.j.Name, JourneyID: c.j.ID, DedupKey: key})
	if err != nil {
		return ActionOutcome{}, err
	}
	if !created {
		return ActionOutcome{Outcome: OutDuplicate}, nil
	}
	return ActionOutcome{Outcome: OutLeadCreated}, nil
}
