package campaign

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/task"
)

// Kick asks the runner to look for due runs now (after a launch or resume).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Runner runs due campaign runs inside `kehu serve`: it looks every Poll
// (and when kicked) for a due run, claims it in the database — one claim
// per run across every server sharing the database — and runs it to the
// end. Start with the server's context; Wait on shutdown.
type Runner struct {
	s    *Service
	poll time.Duration
	wg   sync.WaitGroup
}

// NewRunner returns the runner of s's launches; poll defaults to 15 s.
func NewRunner(s *Service, poll time.Duration) *Runner {
	if poll <= 0 {
		poll = 15 * time.Second
	}
	return &Runner{s: s, poll: poll}
}

// Start runs due runs until ctx ends.
func (r *Runner) Start(ctx context.Context) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.poll)
		defer t.Stop()
		for {
			if _, err := r.s.RunDue(ctx); err != nil && ctx.Err() == nil {
				r.s.d.Logger.WarnContext(ctx, "campaign runner", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-r.s.kick:
			}
		}
	}()
}

// Wait blocks until the runner has stopped.
func (r *Runner) Wait() { r.wg.Wait() }

// RunDue claims and runs due runs one after another until none is due;
// it returns how many it ran. A run stopped by ctx stays claimed until its
// heartbeat goes stale (Deps.Lease), then any server resumes it after its
// checkpoint.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		now := s.d.Clock.Now().UTC()
		r, ok, err := s.d.Store.ClaimRun(ctx, s.owner, now, now.Add(-s.d.Lease))
		if err != nil || !ok {
			return n, err
		}
		n++
		if err := s.execute(ctx, r); err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			s.d.Logger.WarnContext(ctx, "campaign run stopped", "campaign", r.CampaignID, "run", r.Number, "err", err)
			s.fail(ctx, r, err)
		}
	}
	return n, ctx.Err()
}

// fail ends a run that cannot go on (its launcher lost the permission, the
// template vanished); a conflict means someone else took or ended it.
func (s *Service) fail(ctx context.Context, r Run, cause error) {
	if kehu.ErrorCode(cause) == kehu.ECONFLICT {
		return
	}
	now := s.d.Clock.Now().UTC()
	r.Status, r.FinishedAt, r.Error = RunFailed, &now, kehu.ErrorMessage(cause)
	if err := s.d.Store.SetRun(ctx, s.owner, r); err != nil {
		s.d.Logger.WarnContext(ctx, "campaign run: record failure", "campaign", r.CampaignID, "err", err)
	}
}

// launcherContext is the context a run works in: the user who launched
// the campaign, as they are now, so the audience is read in their current
// scope and the audit trail names them.
func (s *Service) launcherContext(ctx context.Context, c Campaign) (context.Context, error) {
	if c.LaunchedBy == nil {
		return nil, kehu.Errorf(kehu.EINVALID, "campaign %d has no launcher", c.ID)
	}
	a, active, err := s.d.Store.ActorOf(ctx, *c.LaunchedBy)
	if err != nil {
		return nil, err
	}
	if !active || !access.Can(a.Role, access.CampaignManage) {
		return nil, kehu.Errorf(kehu.EFORBIDDEN, "the user who launched campaign %d is disabled or may no longer run campaigns", c.ID)
	}
	return kehu.WithActor(ctx, a), nil
}

// execute runs r batch by batch from its checkpoint. Where the store
// allows it (Store.ReadAhead), two batches are in flight: while one
// batch's transaction records it, the next page of the audience is read
// and decided on other connections (decideAhead). Each batch's writes and
// checkpoint still commit together, one batch after the other, so a kill
// loses at most the batch being written and a resume starts after the last
// checkpoint; a decision read ahead is confirmed in its own transaction
// (policy.Confirm) like any other.
func (s *Service) execute(ctx context.Context, r Run) error {
	c, err := s.d.Store.GetCampaign(ctx, r.CampaignID)
	if err != nil {
		return err
	}
	actx, err := s.launcherContext(ctx, c)
	if err != nil {
		return err
	}
	if c.Status == Scheduled {
		if err := s.setStatus(actx, c.ID, Scheduled, Running); err != nil {
			return err
		}
	}
	// The page read ahead is abandoned on every way out (pause, cancel, a
	// failed batch, ctx); its goroutine is waited for, so none outlives the
	// run.
	readAhead := s.d.Store.ReadAhead()
	ahead, stop := context.WithCancel(actx)
	var next <-chan decided
	if readAhead {
		next = s.decideAhead(ahead, c, r.Number, r.Checkpoint)
	}
	defer func() {
		stop()
		if next != nil {
			<-next
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := s.d.Store.GetCampaign(ctx, c.ID)
		if err != nil {
			return err
		}
		switch cur.Status {
		case Paused:
			r.Status = RunPending
			return s.d.Store.SetRun(ctx, s.owner, r)
		case Cancelled:
			return nil // Cancel ended the run
		}
		var d decided
		if next != nil {
			d, next = <-next, nil
		} else {
			d = s.decide(actx, c, r.Number, r.Checkpoint)
		}
		if d.err != nil {
			return d.err
		}
		if len(d.ids) == 0 {
			return s.finish(actx, c, r)
		}
		if readAhead {
			next = s.decideAhead(ahead, c, r.Number, d.ids[len(d.ids)-1])
		}
		if r, err = s.record(actx, c, r, d); err != nil {
			return err
		}
	}
}

// decided is a page of the audience with its decisions, read ahead of
// its transaction.
type decided struct {
	ids     []int64  // the page, in id order
	control []Member // its control group
	pb      policy.Batch
	mark    int64             // the contact log's position before deciding
	ds      []policy.Decision // the treatment group's decisions
	now     time.Time
	err     error
}

// decideAhead runs decide on its own goroutine; the channel delivers its
// result once.
func (s *Service) decideAhead(ctx context.Context, c Campaign, run int, after int64) <-chan decided {
	out := make(chan decided, 1)
	go func() { out <- s.decide(ctx, c, run, after) }()
	return out
}

// decide reads the page of the audience after the customer id after,
// splits off the control group and decides the rest under the contact
// policy, outside any transaction.
func (s *Service) decide(ctx context.Context, c Campaign, run int, after int64) decided {
	ids, err := s.d.Segments.Audience(ctx, c.SegmentID, after, s.d.Batch)
	if err != nil {
		return decided{err: fmt.Errorf("audience after %d: %w", after, err)}
	}
	if len(ids) == 0 {
		return decided{}
	}
	d := decided{ids: ids, now: s.d.Clock.Now().UTC()}
	var treat []int64
	for _, id := range ids {
		if InControl(c.Seed, id, c.ControlPct) {
			d.control = append(d.control, Member{CampaignID: c.ID, Run: run, CustomerID: id, Group: Control, Outcome: OutcomeHeldOut})
		} else {
			treat = append(treat, id)
		}
	}
	var pid int64
	if c.ProductID != nil {
		pid = *c.ProductID
	}
	d.pb = policy.Batch{Channel: PolicyChannel(c.Channel), Purpose: c.Purpose, ProductID: pid, At: d.now}
	// The contact log's position before deciding: Confirm re-decides, in
	// the transaction, whoever another launch or journey contacted since
	// (a page read ahead also sees the batch before it there, whose
	// customers are not its own).
	if d.mark, err = s.d.Policy.Mark(ctx); err != nil {
		return decided{err: fmt.Errorf("contact policy: %w", err)}
	}
	if d.ds, err = s.d.Policy.DecideMany(ctx, d.pb, treat); err != nil {
		return decided{err: fmt.Errorf("contact policy: %w", err)}
	}
	return d
}

// record confirms, records and queues one decided batch and moves the
// checkpoint past it, all in one transaction.
func (s *Service) record(ctx context.Context, c Campaign, r Run, page decided) (Run, error) {
	now, pb, ds := page.now, page.pb, page.ds
	pid, pch := pb.ProductID, pb.Channel
	next := r
	next.Audience += int64(len(page.ids))
	next.Control += int64(len(page.control))
	next.Checkpoint = page.ids[len(page.ids)-1]
	err := s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Policy.Confirm(ctx, pb, page.mark, ds); err != nil {
			return err
		}
		var tally policy.Tally
		var contacts []policy.Contact
		var allowed []int64
		var rows []outbox.New
		tr := make([]Member, len(ds))
		for i, d := range ds {
			tally.Add(d)
			m := Member{CampaignID: c.ID, Run: r.Number, CustomerID: d.CustomerID, Group: Treatment}
			if d.Outcome == policy.Suppress {
				m.Outcome, m.Reason = OutcomeSuppressed, d.Reason()
				next.Suppressed++
				tr[i] = m
				continue
			}
			at := s.slot(r, c, next.Queued+next.Deferred, now)
			m.Outcome = OutcomeQueued
			if d.Outcome == policy.Defer {
				m.Outcome, m.Reason = OutcomeDeferred, d.Reason()
				if d.DeferUntil != nil && d.DeferUntil.After(at) {
					at = *d.DeferUntil
				}
				next.Deferred++
			} else {
				next.Queued++
			}
			if !IsMessage(c.Channel) {
				m.Outcome = OutcomeTask
			}
			tr[i] = m
			allowed = append(allowed, d.CustomerID)
			contacts = append(contacts, policy.Contact{CustomerID: d.CustomerID, Channel: pch, Purpose: c.Purpose,
				SourceKind: policy.SourceCampaign, SourceID: c.ID, ProductID: pid, At: at})
			if ch, ok := OutboxChannel(c.Channel); ok {
				tid := *c.TemplateID
				rows = append(rows, outbox.New{SourceKind: policy.SourceCampaign, SourceID: c.ID, CustomerID: d.CustomerID,
					Channel: ch, DedupKey: dedupKey(c, r.Number, d.CustomerID, ch), TemplateID: tid,
					TemplateVersion: c.TemplateVersion, Data: &msgtemplate.Data{ProductName: c.ProductName}, NotBefore: at})
			}
		}
		if err := s.d.Policy.RecordContacts(ctx, contacts); err != nil {
			return err
		}
		if err := s.d.Policy.SaveTally(ctx, policy.SourceCampaign, c.ID, tally); err != nil {
			return err
		}
		if err := s.deliver(ctx, c, r.Number, rows, allowed, tr); err != nil {
			return err
		}
		return s.d.Store.SaveBatch(ctx, s.owner, next, append(page.control, tr...), now)
	})
	if err != nil {
		return r, err
	}
	return next, nil
}

// deliver queues the messages (or creates the tasks) of the allowed
// members and notes their ids on the members.
func (s *Service) deliver(ctx context.Context, c Campaign, run int, rows []outbox.New, allowed []int64, tr []Member) error {
	var keys []string
	byCustomer := map[int64]string{}
	var lookup func(context.Context, []string) (map[string]int64, error)
	if IsMessage(c.Channel) {
		if len(rows) == 0 {
			return nil
		}
		if _, err := s.d.Queue.Enqueue(ctx, rows); err != nil {
			return err
		}
		for _, n := range rows {
			keys = append(keys, n.Key())
			byCustomer[n.CustomerID] = n.Key()
		}
		lookup = s.d.Store.MessageIDs
	} else {
		if len(allowed) == 0 {
			return nil
		}
		ts := s.tasks(ctx, c, run, allowed)
		if _, err := s.d.Tasks.Create(ctx, ts); err != nil {
			return fmt.Errorf("tasks: %w", err)
		}
		for _, n := range ts {
			keys = append(keys, n.Key())
			byCustomer[n.CustomerID] = n.Key()
		}
		lookup = s.d.Store.TaskIDs
	}
	ids, err := lookup(ctx, keys)
	if err != nil {
		return err
	}
	for i := range tr {
		if id, ok := ids[byCustomer[tr[i].CustomerID]]; ok {
			if IsMessage(c.Channel) {
				tr[i].MessageID = &id
			} else {
				tr[i].TaskID = &id
			}
		}
	}
	return nil
}

// TaskDue is how long staff have for a campaign's task.
const TaskDue = 7 * 24 * time.Hour

// tasks are the staff tasks of the task channels: for rm_task a call by the
// customer's own RM (the task module's default assignee); for call_list a
// line of the outbound call list in the call centre's queue at the
// launcher's organisation.
func (s *Service) tasks(ctx context.Context, c Campaign, run int, customers []int64) []task.New {
	a, _ := kehu.ActorFrom(ctx)
	kind, queue := task.Call, task.Queue{}
	if c.Channel == CallList {
		kind, queue = task.CampaignCall, task.Queue{Role: access.CallCenterAgent, OrgID: a.OrgID}
	}
	title := "营销活动「" + c.Name + "」"
	actions := []string{"联系客户，记录客户反馈"}
	var pid int64
	if c.ProductID != nil {
		pid = *c.ProductID
		title += "：推荐" + c.ProductName
		actions = []string{"介绍" + c.ProductName + "（先确认客户风险评估有效）", "记录客户反馈"}
	}
	due := s.d.Clock.Now().UTC().Add(TaskDue)
	out := make([]task.New, len(customers))
	for i, id := range customers {
		out[i] = task.New{Kind: kind, Title: truncate(title, task.MaxTitle), Detail: truncate(c.Description, task.MaxDetail),
			Actions: actions, CustomerID: id, ProductID: pid, Queue: queue, DueAt: due, SourceKind: task.SourceCampaign,
			SourceID: c.ID}
		if c.Schedule.Recurring() {
			out[i].DedupKey = "task:campaign:" + strconv.FormatInt(c.ID, 10) + ":run" + strconv.Itoa(run) + ":" +
				strconv.FormatInt(id, 10) + ":" + string(kind)
		}
	}
	return out
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// dedupKey is the outbox key of a member's message: the outbox default
// (campaign:<id>:<customer>:<channel>) for a once campaign, with the run
// for a recurring one, so each run messages its audience once.
func dedupKey(c Campaign, run int, customerID int64, ch msgtemplate.Channel) string {
	if !c.Schedule.Recurring() {
		return ""
	}
	return "campaign:" + strconv.FormatInt(c.ID, 10) + ":run" + strconv.Itoa(run) + ":" +
		strconv.FormatInt(customerID, 10) + ":" + string(ch)
}

// slot is when the k-th contact of a run may go under the throttle: k
// minutes/ThrottlePerMinute after the run started; now without a throttle.
func (s *Service) slot(r Run, c Campaign, k int64, now time.Time) time.Time {
	if c.ThrottlePerMinute <= 0 || r.StartedAt == nil {
		return now
	}
	at := r.StartedAt.Add(time.Duration(k) * time.Minute / time.Duration(c.ThrottlePerMinute))
	if at.Before(now) {
		return now
	}
	return at
}

// finish ends a run whose audience is exhausted: the run is done, the next
// run of a recurring campaign is scheduled, the campaign becomes completed
// or scheduled again; one campaign.run audit record.
func (s *Service) finish(ctx context.Context, c Campaign, r Run) error {
	now := s.d.Clock.Now().UTC().Truncate(time.Microsecond)
	return s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		r.Status, r.FinishedAt = RunDone, &now
		if err := s.d.Store.SetRun(ctx, s.owner, r); err != nil {
			return err
		}
		cur, err := s.d.Store.GetCampaign(ctx, c.ID)
		if err != nil {
			return err
		}
		old, status := cur.Status, Completed
		if n, due, ok := c.Schedule.Next(r.Number+1, now, s.loc); ok {
			if _, err := s.d.Store.CreateRun(ctx, Run{CampaignID: c.ID, Number: n, Status: RunPending, DueAt: due}); err != nil {
				return err
			}
			status = Scheduled
		}
		if cur.Status == Running || cur.Status == Scheduled {
			cur.Status, cur.UpdatedAt = status, now
			if err := s.d.Store.UpdateCampaign(ctx, cur); err != nil {
				return err
			}
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: ActionRun, Object: object(c.ID), Count: int(r.Audience),
			Reason: fmt.Sprintf("run %d: audience %d, control %d, queued %d, deferred %d, suppressed %d", r.Number,
				r.Audience, r.Control, r.Queued, r.Deferred, r.Suppressed),
			Changes: []audit.Change{{Field: "status", Old: old, New: cur.Status}}})
	})
}

// setStatus moves the campaign from one status to another if it is still
// in the first (a pause or cancel meanwhile wins).
func (s *Service) setStatus(ctx context.Context, id int64, from, to string) error {
	return s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.d.Store.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		if c.Status != from {
			return nil
		}
		c.Status, c.UpdatedAt = to, s.d.Clock.Now().UTC().Truncate(time.Microsecond)
		return s.d.Store.UpdateCampaign(ctx, c)
	})
}
