package campaign

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// transition changes one campaign under the actor's permission p: it reads
// the campaign in a transaction, lets change check the status and update
// it (with the transaction's context), stores it and records action with
// the status change.
func (s *Service) transition(ctx context.Context, id int64, p access.Permission, action, reason string,
	change func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error) (Campaign, error) {
	return s.transitionNoting(ctx, id, p, action, reason, func(ctx context.Context, a kehu.Actor, c *Campaign,
		now time.Time) ([]audit.Change, error) {
		return nil, change(ctx, a, c, now)
	})
}

// transitionNoting is transition whose change also returns audit changes
// beyond the status (what a resume released and withdrew).
func (s *Service) transitionNoting(ctx context.Context, id int64, p access.Permission, action, reason string,
	change func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) ([]audit.Change, error)) (Campaign, error) {
	a, err := access.ActorWith(ctx, p)
	if err != nil {
		return Campaign{}, err
	}
	now := s.d.Clock.Now().UTC().Truncate(time.Microsecond)
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.d.Store.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		from := c.Status
		more, err := change(ctx, a, &c, now)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := s.d.Store.UpdateCampaign(ctx, c); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: action, Object: object(id), Reason: reason,
			Changes: append([]audit.Change{{Field: "status", Old: from, New: c.Status}}, more...)})
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.withHeld(ctx, id)
}

func wrongStatus(c *Campaign, action string, want ...string) error {
	return refuse(kehu.ECONFLICT,
		fmt.Sprintf("活动 %d 当前为「%s」，只有%s的活动可以%s", c.ID, zhName(statusZH, c.Status), zhStatuses(want),
			zhName(actionZH, action)),
		fmt.Sprintf("campaign %d is %s; only a campaign that is %s can be %s", c.ID, c.Status, strings.Join(want, " or "), action))
}

// notTheMaker refuses a checker who wrote or submitted campaign id; verb
// is "approve" or "review".
func notTheMaker(id int64, verb string) error {
	zh := "审批"
	if verb == "review" {
		zh = "复核退回"
	}
	return refuse(kehu.EFORBIDDEN,
		fmt.Sprintf("制作人与复核人须分离：活动 %d 由您编写或提交，需由其他用户%s", id, zh),
		fmt.Sprintf("maker-checker: you wrote or submitted campaign %d, so another user must %s it", id, verb))
}

// Submit sends a draft to a checker (campaign.manage).
func (s *Service) Submit(ctx context.Context, id int64) (Campaign, error) {
	return s.transition(ctx, id, access.CampaignManage, ActionSubmit, "", func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status != Draft {
			return wrongStatus(c, "submitted", Draft)
		}
		c.Status, c.SubmittedBy, c.SubmittedAt, c.RejectReason = Submitted, &a.UserID, &now, ""
		return nil
	})
}

// Approve approves a submitted campaign (campaign.approve) and pins the
// template's current version: the message the checker read is the one
// sent. The checker must not be its maker: not the user who created, last
// changed or submitted it.
func (s *Service) Approve(ctx context.Context, id int64) (Campaign, error) {
	return s.transition(ctx, id, access.CampaignApprove, ActionApprove, "", func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status != Submitted {
			return wrongStatus(c, "approved", Submitted)
		}
		if a.UserID == c.CreatedBy || a.UserID == c.UpdatedBy || (c.SubmittedBy != nil && a.UserID == *c.SubmittedBy) {
			return notTheMaker(c.ID, "approve")
		}
		if c.TemplateID != nil {
			t, err := s.d.Store.Template(ctx, *c.TemplateID)
			if err != nil {
				return fmt.Errorf("template of campaign %d: %w", c.ID, err)
			}
			c.TemplateVersion = t.Version
		}
		c.Status, c.ApprovedBy, c.ApprovedAt = Approved, &a.UserID, &now
		return nil
	})
}

// Reject returns a submitted campaign to draft with the checker's reason
// (campaign.approve).
func (s *Service) Reject(ctx context.Context, id int64, reason string) (Campaign, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > 500 {
		return Campaign{}, invalid("reason", "请填写退回原因（1 至 500 个字）", "must have 1 to 500 characters")
	}
	return s.transition(ctx, id, access.CampaignApprove, ActionReject, reason, func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status != Submitted {
			return wrongStatus(c, "rejected", Submitted)
		}
		if a.UserID == c.CreatedBy || a.UserID == c.UpdatedBy || (c.SubmittedBy != nil && a.UserID == *c.SubmittedBy) {
			return notTheMaker(c.ID, "review")
		}
		c.Status, c.RejectReason, c.ApprovedBy, c.ApprovedAt = Draft, reason, nil, nil
		return nil
	})
}

// Launch schedules an approved campaign's first run (campaign.manage): at
// its start time, or now when that has passed or there is none. A campaign
// launched already is ECONFLICT naming its run; its run is untouched, so
// launching twice starts nothing twice.
func (s *Service) Launch(ctx context.Context, id int64) (Campaign, error) {
	c, err := s.transition(ctx, id, access.CampaignManage, ActionLaunch, "", func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status != Approved {
			if Launched(c.Status) {
				return s.launchedAlready(ctx, c)
			}
			return wrongStatus(c, "launched", Approved)
		}
		due := now
		n := 1
		if c.Schedule.Recurring() {
			var ok bool
			if n, due, ok = c.Schedule.Next(1, now.Add(-time.Second), s.loc); !ok {
				end := c.Schedule.EndAt.In(s.loc).Format("2006-01-02 15:04")
				return refuse(kehu.ECONFLICT, fmt.Sprintf("活动 %d 的执行计划已于 %s 结束，请修改计划后重新审批", c.ID, end),
					fmt.Sprintf("campaign %d: its schedule ended on %s; change the schedule and approve it again", c.ID, end))
			}
		} else if c.Schedule.StartAt != nil && c.Schedule.StartAt.After(now) {
			due = *c.Schedule.StartAt
		}
		if _, err := s.d.Store.CreateRun(ctx, Run{CampaignID: c.ID, Number: n, Status: RunPending, DueAt: due}); err != nil {
			return err
		}
		c.Status, c.LaunchedBy, c.LaunchedAt = Scheduled, &a.UserID, &now
		return nil
	})
	if err == nil {
		s.Kick()
	}
	return c, err
}

func (s *Service) launchedAlready(ctx context.Context, c *Campaign) error {
	runs, err := s.d.Store.Runs(ctx, c.ID)
	if err != nil {
		return err
	}
	what, zh := c.Status, zhName(statusZH, c.Status)
	if len(runs) > 0 {
		r := runs[len(runs)-1]
		what = fmt.Sprintf("%s; run %d is %s", c.Status, r.Number, r.Status)
		zh = fmt.Sprintf("%s，第 %d 次执行%s", zh, r.Number, zhName(runStatusZH, r.Status))
	}
	return refuse(kehu.ECONFLICT, fmt.Sprintf("活动 %d 已经投放过（%s）", c.ID, zh),
		fmt.Sprintf("campaign %d was launched already (%s)", c.ID, what))
}

// Pause holds a launched campaign (campaign.manage): a run in progress
// stops after its current batch, keeping its checkpoint; no run starts; and
// the messages it queued but the outbox has not sent are held — the
// dispatcher claims none of them (nor any the stopping batch still queues)
// until Resume. A message the dispatcher claimed before the pause is sent
// once; one held is never sent while paused. A completed campaign whose
// throttled backlog is still queued can be paused too (its messages are
// held the same way); one with nothing left to send cannot.
func (s *Service) Pause(ctx context.Context, id int64) (Campaign, error) {
	return s.transition(ctx, id, access.CampaignManage, ActionPause, "", func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status != Scheduled && c.Status != Running && c.Status != Completed {
			return refuse(kehu.ECONFLICT,
				fmt.Sprintf("活动 %d 当前为「%s」，只有「已排期」或「执行中」的活动（或仍有排队消息的已完成活动）可以暂停", c.ID,
					zhName(statusZH, c.Status)),
				fmt.Sprintf("campaign %d is %s; only a campaign that is scheduled or running (or completed with messages "+
					"still queued) can be paused", c.ID, c.Status))
		}
		if c.Status == Completed {
			n, err := s.d.Store.QueuedMessages(ctx, c.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return refuse(kehu.ECONFLICT, fmt.Sprintf("活动 %d 已完成，且没有待发送的消息可以暂停", c.ID),
					fmt.Sprintf("campaign %d is completed and has no queued messages left to hold", c.ID))
			}
		}
		if _, err := s.d.Store.HoldMessages(ctx, c.ID, now); err != nil {
			return err
		}
		c.Status = Paused
		return nil
	})
}

// Resume continues a paused campaign (campaign.manage): its run resumes
// after its checkpoint, and its held messages are released (releasePlan):
// those held longer than HoldHours past their own send time are withdrawn
// as expired, the others go at their own time or the next free slot. The
// campaign is scheduled again while it has a run to do, else completed (a
// completed campaign paused for its backlog, or one whose last run
// finished while it was paused). The audit record counts both.
func (s *Service) Resume(ctx context.Context, id int64) (Campaign, error) {
	c, err := s.transitionNoting(ctx, id, access.CampaignManage, ActionResume, "", func(ctx context.Context, a kehu.Actor,
		c *Campaign, now time.Time) ([]audit.Change, error) {
		if c.Status != Paused {
			return nil, wrongStatus(c, "resumed", Paused)
		}
		reason := fmt.Sprintf("expired: held by the campaign's pause more than %d h past its send time", c.HoldHours)
		released, expired, err := s.d.Store.ReleaseMessages(ctx, c.ID, s.releasePlan(*c, now), reason, now)
		if err != nil {
			return nil, err
		}
		runs, err := s.d.Store.Runs(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		c.Status = Completed
		for _, r := range runs {
			if r.Status == RunPending || r.Status == RunRunning {
				c.Status = Scheduled
			}
		}
		return []audit.Change{{Field: "released", New: strconv.FormatInt(released, 10)},
			{Field: ReasonExpired, New: strconv.FormatInt(expired, 10)}}, nil
	})
	if err == nil {
		s.Kick()
	}
	return c, err
}

// releasePlan decides each held message's fate on resume, in the order of
// their own send times. One held more than HoldHours past its own time
// expired: its content (a rate, a quota, "this week only") is stale, and a
// bank would rather not send it than send it days late. Another goes at
// its own time when that is still to come and free; else at the next free
// throttle slot from now (one every minute/ThrottlePerMinute, so a backlog
// does not go out at once; a microsecond apart without a throttle, keeping
// the order), never inside the bank's quiet hours — a resume at night
// sends the backlog when they end — and then, when the customer asked for
// other days or hours (contact preferences), at the next moment they
// allow. The customer's shift does not move the throttle's slots of the
// others; the outbox's per-channel rate still applies on top.
func (s *Service) releasePlan(c Campaign, now time.Time) ReleasePlan {
	return func(ctx context.Context, held []HeldMessage) ([]time.Time, error) {
		maxHold := time.Duration(c.HoldHours) * time.Hour
		var customers []int64
		seen := make(map[int64]bool)
		for _, h := range held {
			if now.Sub(h.Due) <= maxHold && !seen[h.CustomerID] {
				seen[h.CustomerID] = true
				customers = append(customers, h.CustomerID)
			}
		}
		bank, err := s.d.Policy.BankOpen(ctx)
		if err != nil {
			return nil, err
		}
		customer, err := s.d.Policy.Opening(ctx, customers)
		if err != nil {
			return nil, err
		}
		step := time.Microsecond
		if c.ThrottlePerMinute > 0 {
			step = time.Minute / time.Duration(c.ThrottlePerMinute)
		}
		next := now
		out := make([]time.Time, len(held))
		for i, h := range held {
			if now.Sub(h.Due) > maxHold {
				continue // expired: the zero time
			}
			at := h.Due
			if at.Before(next) {
				at = next
			}
			if at.Equal(h.Due) {
				// Its own time passed the policy when it was queued.
				out[i], next = at, at.Add(step)
				continue
			}
			at = bank(at)
			next = at.Add(step)
			out[i] = customer(h.CustomerID, at)
		}
		return out, nil
	}
}

// Cancel stops a campaign for good (campaign.manage): runs not finished
// are cancelled and its messages still queued — held ones of a paused
// campaign too — are withdrawn (failed with "cancelled"). Messages already
// sent stay sent.
func (s *Service) Cancel(ctx context.Context, id int64, reason string) (Campaign, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 {
		return Campaign{}, invalid("reason", "取消原因最多 500 个字", "must have at most 500 characters")
	}
	return s.transition(ctx, id, access.CampaignManage, ActionCancel, reason, func(ctx context.Context, a kehu.Actor, c *Campaign, now time.Time) error {
		if c.Status == Completed || c.Status == Cancelled {
			return wrongStatus(c, "cancelled", Draft, Submitted, Approved, Scheduled, Running, Paused)
		}
		runs, err := s.d.Store.Runs(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if r.Status == RunPending || r.Status == RunRunning {
				r.Status, r.FinishedAt = RunCancelled, &now
				if err := s.d.Store.SetRun(ctx, "", r); err != nil {
					return err
				}
			}
		}
		if err := s.d.Store.UnholdMessages(ctx, c.ID, now); err != nil {
			return err
		}
		if _, err := s.d.Store.WithdrawQueued(ctx, c.ID, "cancelled: campaign cancelled before sending", now); err != nil {
			return err
		}
		c.Status = Cancelled
		return nil
	})
}
