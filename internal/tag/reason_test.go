package tag_test

import (
	"testing"

	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// TestReasonRequired: a manual tag may demand a reason, emotion tags always
// do, computed tags may not ask; the setting can be changed.
func TestReasonRequired(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := newService(b)
		admin := b.As("admin")
		watch, err := svc.Create(admin, tag.NewTag{Name: "重点关注", Kind: tag.Manual, Color: "amber", ReasonRequired: true})
		if err != nil || !watch.ReasonRequired {
			t.Fatalf("create: %+v %v", watch, err)
		}
		a1 := b.Customers["a1"].ID
		if _, err := svc.Add(b.As("rm_a"), a1, tag.Assign{TagID: watch.ID}); fields(err) != "reason" {
			t.Errorf("without a reason: %v", err)
		}
		if _, err := svc.Add(b.As("rm_a"), a1, tag.Assign{TagID: watch.ID, Reason: "大额资金频繁进出"}); err != nil {
			t.Errorf("with a reason: %v", err)
		}
		off := false
		if watch, err = svc.Update(admin, watch.ID, tag.Update{ReasonRequired: &off}); err != nil || watch.ReasonRequired {
			t.Fatalf("update: %+v %v", watch, err)
		}
		if _, err := svc.Add(b.As("rm_a"), b.Customers["a2"].ID, tag.Assign{TagID: watch.ID}); err != nil {
			t.Errorf("no longer required: %v", err)
		}
		if _, err := svc.Create(admin, tag.NewTag{Name: "高频", Kind: tag.Computed, ReasonRequired: true,
			Rule: &tag.Rule{Kind: tag.RuleCardActive, Days: 30, MinCount: 10}}); fields(err) != "reason_required" {
			t.Errorf("computed asking for a reason: %v", err)
		}
		emo, err := svc.Create(admin, tag.NewTag{Name: "焦虑", Kind: tag.Emotion, Polarity: tag.Negative})
		if err != nil || !emo.ReasonRequired {
			t.Fatalf("emotion: %+v %v", emo, err)
		}
		off2 := false
		if emo, err = svc.Update(admin, emo.ID, tag.Update{ReasonRequired: &off2}); err != nil || !emo.ReasonRequired {
			t.Errorf("an emotion tag always asks: %+v %v", emo, err)
		}
	})
}

func fields(err error) string {
	out := ""
	for i, f := range kehu.ErrorFields(err) {
		if i > 0 {
			out += ","
		}
		out += f.Field
	}
	return out
}
