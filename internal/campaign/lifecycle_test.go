package campaign_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"kehu/internal/campaign"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestValidation(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 0, 0)
		mk := r.b.As("hq_marketing")
		push, err := r.b.TemplateService().Create(mk, msgtemplate.Input{Name: "推送", Channel: msgtemplate.Push,
			Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Subject: "新品", Body: "{{customer_name}}您好"}})
		if err != nil {
			t.Fatal(err)
		}
		amount, err := r.b.TemplateService().Create(mk, msgtemplate.Input{Name: "金额", Channel: msgtemplate.SMS,
			Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】起购{{amount_wan}}。退订回T"}})
		if err != nil {
			t.Fatal(err)
		}
		past := r.b.Clock.Now().Add(-time.Hour)
		bad := []int64{999}
		cases := []struct {
			name   string
			edit   func(*campaign.Input)
			fields []string
			text   string
		}{
			{"unknown segment", func(in *campaign.Input) { in.SegmentID = 999 }, []string{"segment_id"}, "no segment 999"},
			{"unknown product", func(in *campaign.Input) { in.ProductID = &bad[0] }, []string{"product_id"}, "no product 999"},
			{"channel mismatch", func(in *campaign.Input) { in.TemplateID = &push.ID }, []string{"template_id"}, "is a push template; the campaign sends sms"},
			{"variable not available", func(in *campaign.Input) { in.TemplateID = &amount.ID }, []string{"template_id"}, "{{amount_wan}}"},
			{"product_name without product", func(in *campaign.Input) { in.ProductID = nil }, []string{"template_id"}, "choose an offered product"},
			{"control out of range", func(in *campaign.Input) { in.ControlPct = 60 }, []string{"control_pct"}, "between 0 and 50"},
			{"start in the past", func(in *campaign.Input) { in.Schedule.StartAt = &past }, []string{"schedule.start_at"}, "in the past"},
			{"recurring without end", func(in *campaign.Input) {
				in.Schedule = campaign.Schedule{Kind: campaign.Daily, StartAt: new(r.b.Clock.Now().Add(time.Hour))}
			}, []string{"schedule.end_at"}, "needs an end"},
			{"unknown channel and no name", func(in *campaign.Input) { in.Channel, in.Name = "fax", "" }, []string{"channel", "name"}, "must be one of"},
			{"task channel without tasks", func(in *campaign.Input) { in.Channel, in.TemplateID = campaign.RMTask, nil }, []string{"channel"}, "no task module"},
		}
		for _, c := range cases {
			in := r.input(10)
			c.edit(&in)
			_, err := r.svc.Create(mk, in)
			if kehu.ErrorCode(err) != kehu.EINVALID || !slices.Equal(fieldsOf(err), c.fields) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%s: %v, want fields %v mentioning %q", c.name, err, c.fields, c.text)
			}
			// The pages' wording: each field's reason in Chinese, and the
			// API's English.
			fs, ws := kehu.ErrorFields(err), campaign.Worded(err)
			if len(ws) != len(fs) {
				t.Errorf("%s: %d reasons worded for %d fields", c.name, len(ws), len(fs))
			}
			for i := range min(len(ws), len(fs)) {
				if ws[i].Field != fs[i].Field || ws[i].EN != fs[i].Reason || !hasHan(ws[i].ZH) ||
					ws[i].Text("zh-CN") != ws[i].ZH || ws[i].Text("en") != ws[i].EN {
					t.Errorf("%s: worded %+v for %+v", c.name, ws[i], fs[i])
				}
			}
		}
		// A teller may not even read campaigns.
		if _, err := r.svc.List(r.b.As("teller_a"), ""); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("teller lists campaigns: %v", err)
		}
	})
}

func TestMakerChecker(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 0, 0)
		mk, admin, bm := r.b.As("hq_marketing"), r.b.As("admin"), r.b.As("branch_manager")
		c, err := r.svc.Create(admin, r.input(10))
		if err != nil || c.Status != campaign.Draft {
			t.Fatalf("create: %+v %v", c, err)
		}
		if _, err := r.svc.Approve(bm, c.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("approve a draft: %v", err)
		}
		if _, err := r.svc.Launch(admin, c.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("launch a draft: %v", err)
		}
		if c, err = r.svc.Submit(admin, c.ID); err != nil || c.Status != campaign.Submitted {
			t.Fatalf("submit: %+v %v", c, err)
		}
		// The maker cannot approve their own campaign, even holding
		// campaign.approve; an operator without it cannot either.
		if _, err := r.svc.Approve(admin, c.ID); kehu.ErrorCode(err) != kehu.EFORBIDDEN || !strings.Contains(err.Error(), "maker-checker") {
			t.Errorf("maker approves: %v", err)
		}
		if _, err := r.svc.Approve(mk, c.ID); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("operator approves: %v", err)
		}
		// Rejected with a reason: back to draft.
		if _, err := r.svc.Reject(bm, c.ID, " "); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("reject without reason: %v", err)
		}
		if c, err = r.svc.Reject(bm, c.ID, "文案缺少风险提示"); err != nil || c.Status != campaign.Draft || c.RejectReason != "文案缺少风险提示" {
			t.Fatalf("reject: %+v %v", c, err)
		}
		// Resubmitted and approved by the checker: the template version is pinned.
		if _, err = r.svc.Submit(admin, c.ID); err != nil {
			t.Fatal(err)
		}
		if c, err = r.svc.Approve(bm, c.ID); err != nil || c.Status != campaign.Approved || c.TemplateVersion != 1 ||
			c.ApprovedBy == nil || *c.ApprovedBy != r.b.Users["branch_manager"].ID || c.RejectReason != "" {
			t.Fatalf("approve: %+v %v", c, err)
		}
		// Editing an approved campaign returns it to draft.
		in := r.input(20)
		if c, err = r.svc.Update(mk, c.ID, in); err != nil || c.Status != campaign.Draft || c.ApprovedBy != nil && c.Status == campaign.Approved {
			t.Fatalf("edit approved: %+v %v", c, err)
		}
		if c.ControlPct != 20 || c.UpdatedBy != r.b.Users["hq_marketing"].ID {
			t.Errorf("edit: %+v", c)
		}
		// Now the editor (hq_marketing) is a maker too: admin submits, and
		// neither may approve; the branch manager may.
		if _, err = r.svc.Submit(admin, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Approve(admin, c.ID); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("submitter approves: %v", err)
		}
		if _, err = r.svc.Approve(bm, c.ID); err != nil {
			t.Fatal(err)
		}
		if c, err = r.svc.Launch(mk, c.ID); err != nil || c.Status != campaign.Scheduled {
			t.Fatalf("launch: %+v %v", c, err)
		}
		if _, err := r.svc.Update(mk, c.ID, in); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("edit launched: %v", err)
		}
		if _, err := r.svc.Launch(mk, c.ID); kehu.ErrorCode(err) != kehu.ECONFLICT || !strings.Contains(err.Error(), "run 1 is pending") {
			t.Errorf("launch twice: %v", err)
		}
		// Every transition is on the record.
		got := r.actions("campaign:" + strconv.FormatInt(c.ID, 10))
		want := []string{"campaign.approve", "campaign.approve", "campaign.create", "campaign.launch", "campaign.reject",
			"campaign.submit", "campaign.submit", "campaign.submit", "campaign.update"}
		if !slices.Equal(got, want) {
			t.Errorf("audit actions %v, want %v", got, want)
		}
	})
}

// hasHan reports whether s has a Chinese character.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
