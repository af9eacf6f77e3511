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

// txState is what the firings of one transaction share: the customers
// contacted in it so far (a second message to one of them is decided again
// in the transaction, which sees the first) and the suppressions counted
// per journey, saved once at its end.
type txState struct {
	contacted map[int64]bool
	tallies   map[int64]*policy.Tally
}

func newTxState() *txState {
	return &txState{contacted: map[int64]bool{}, tallies: map[int64]*policy.Tally{}}
}

// save stores the transaction's suppression tallies.
func (st *txState) save(ctx context.Context, p Policy) error {
	for id, t := range st.tallies {
		if err := p.SaveTally(ctx, policy.SourceJourney, id, *t); err != nil {
			return err
		}
	}
	return nil
}

// fire applies the re-entry rule, records the firing unless it is a replay,
// and performs the prepared actions, all in the transaction in ctx.
func (e *Engine) fire(ctx context.Context, p prepared, now time.Time, st *txState) (Firing, bool, error) {
	c := p.c
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
		o, err := e.act(ctx, c, p.acts[i], i, a, now, st)
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

func (e *Engine) act(ctx context.Context, c candidate, pa prepAction, seq int, a Action, now time.Time, st *txState) (ActionOutcome, error) {
	key := "journey:" + strconv.FormatInt(c.j.ID, 10) + ":" + strconv.FormatInt(c.customerID, 10) + ":" + c.ref + ":" +
		strconv.Itoa(seq)
	var o ActionOutcome
	err := pa.refusal
	if err == nil {
		switch a.Kind {
		case ActMessage:
			o, err = e.message(ctx, c, pa, a, key, st)
		case ActTag:
			o, err = e.tag(ctx, c, pa.tag, a, now)
		case ActTask:
			o, err = e.task(ctx, pa.task, key)
		case ActLead:
			o, err = e.lead(ctx, pa.lead, key)
		default:
			err = kehu.Errorf(kehu.EINVALID, "unknown action %q", a.Kind)
		}
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

// message queues the template's current version as the contact policy
// decided (in prepare, confirmed in the transaction): allowed now, or held
// until the deferral ends (quiet hours), or not at all (suppressed, with the
// reason counted for the journey). A customer already contacted earlier in
// this transaction is decided again here, where that contact is seen, so two
// firings of one pass cannot pass a frequency cap that only one should.
func (e *Engine) message(ctx context.Context, c candidate, pa prepAction, a Action, key string, st *txState) (ActionOutcome, error) {
	dec, err := pa.decision()
	if err != nil {
		return ActionOutcome{}, err
	}
	if st.contacted[c.customerID] {
		if dec, err = e.d.Policy.Decide(ctx, pa.req); err != nil {
			return ActionOutcome{}, err
		}
	}
	if dec.Outcome == policy.Suppress {
		t := st.tallies[c.j.ID]
		if t == nil {
			t = &policy.Tally{}
			st.tallies[c.j.ID] = t
		}
		t.Add(dec)
		return ActionOutcome{Outcome: OutSuppressed, Reason: dec.Reason()}, nil
	}
	data := pa.data
	n := outbox.New{SourceKind: policy.SourceJourney, SourceID: c.j.ID, CustomerID: c.customerID,
		Channel: msgtemplate.Channel(a.Channel), DedupKey: key, TemplateID: pa.tmpl.ID,
		TemplateVersion: pa.tmpl.Version, Data: &data}
	o := ActionOutcome{Outcome: OutQueued}
	at := pa.req.At
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
	st.contacted[c.customerID] = true
	err = e.d.Policy.RecordContacts(ctx, []policy.Contact{{CustomerID: c.customerID, Channel: pa.req.Channel,
		Purpose: pa.req.Purpose, SourceKind: policy.SourceJourney, SourceID: c.j.ID, ProductID: pa.req.ProductID, At: at}})
	return o, err
}

// tag puts tag t (read in prepare) on the customer, expiring after
// ExpiresDays (or the tag's default) at the end of that Shanghai day.
func (e *Engine) tag(ctx context.Context, c candidate, t tag.Tag, a Action, now time.Time) (ActionOutcome, error) {
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

// taskRequest is the RM task of action a: to the customer's RM (the task
// service picks the RM queue of the customer's outlet when there is none),
// or to a queue (QueueRole) at the outlet of the event, else at the
// customer's organisation.
func (e *Engine) taskRequest(ctx context.Context, rd *planReads, c candidate, a Action, now time.Time) (TaskRequest, error) {
	if e.d.Work == nil {
		return TaskRequest{}, kehu.Errorf(kehu.EINVALID, "RM tasks are not available in this server")
	}
	r := TaskRequest{Kind: a.TaskKind, Title: a.Title, Suggested: a.Suggested, CustomerID: c.customerID,
		ProductID: c.productID, JourneyID: c.j.ID, Detail: "旅程 " + c.j.Name}
	if a.ProductID != 0 {
		r.ProductID = a.ProductID
	}
	if a.AssignTo == "queue" {
		r.QueueRole, r.QueueOrgID = a.QueueRole, c.outletOrgID
		if r.QueueOrgID == 0 {
			who, err := rd.whoIs(ctx, e.d.Store, c.customerID)
			if err != nil {
				return TaskRequest{}, err
			}
			r.QueueOrgID = who.OrgID
		}
	}
	if a.DueDays > 0 {
		due := now.AddDate(0, 0, a.DueDays)
		r.DueAt = &due
	}
	return r, nil
}

// task creates the prepared RM task.
func (e *Engine) task(ctx context.Context, r TaskRequest, key string) (ActionOutcome, error) {
	r.DedupKey = key
	created, err := e.d.Work.CreateTask(ctx, r)
	if err != nil {
		return ActionOutcome{}, err
	}
	if !created {
		return ActionOutcome{Outcome: OutDuplicate}, nil
	}
	return ActionOutcome{Outcome: OutTaskCreated}, nil
}

// leadRequest is the lead of action a for the customer's RM on the
// action's product (or the event's).
func (e *Engine) leadRequest(ctx context.Context, rd *planReads, c candidate, a Action) (LeadRequest, error) {
	if e.d.Work == nil {
		return LeadRequest{}, kehu.Errorf(kehu.EINVALID, "leads are not available in this server")
	}
	who, err := rd.whoIs(ctx, e.d.Store, c.customerID)
	if err != nil {
		return LeadRequest{}, err
	}
	product := a.ProductID
	if product == 0 {
		product = c.productID
	}
	return LeadRequest{CustomerID: c.customerID, ProductID: product, AssigneeID: who.OwnerID, Note: "旅程 " + c.j.Name,
		JourneyID: c.j.ID}, nil
}

// lead creates the prepared lead.
func (e *Engine) lead(ctx context.Context, r LeadRequest, key string) (ActionOutcome, error) {
	r.DedupKey = key
	created, err := e.d.Work.CreateLead(ctx, r)
	if err != nil {
		return ActionOutcome{}, err
	}
	if !created {
		return ActionOutcome{Outcome: OutDuplicate}, nil
	}
	return ActionOutcome{Outcome: OutLeadCreated}, nil
}
