package contact_test

import (
	"context"
	"testing"
	"time"

	"kehu/internal/contact"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestAllows(t *testing.T) {
	loc := kehu.LoadShanghai()
	at := func(day, hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	const mon, sat = "2026-03-02", "2026-03-07"
	office := contact.Preferences{ContactFrom: "09:00", ContactTo: "18:00", ContactDays: contact.Weekdays}
	night := contact.Preferences{ContactFrom: "19:00", ContactTo: "08:00", DoNotCall: true}
	for _, tt := range []struct {
		name    string
		p       contact.Preferences
		channel string
		at      time.Time
		want    bool
	}{
		{"nothing told", contact.Preferences{}, "phone", at(sat, "03:00"), true},
		{"inside office hours", office, "phone", at(mon, "09:00"), true},
		{"end is exclusive", office, "phone", at(mon, "18:00"), false},
		{"before the window", office, "sms", at(mon, "08:59"), false},
		{"weekend", office, "sms", at(sat, "10:00"), false},
		{"weekends only on a weekday", contact.Preferences{ContactDays: contact.Weekends}, "sms", at(mon, "10:00"), false},
		{"overnight, late", night, "sms", at(mon, "23:30"), true},
		{"overnight, early", night, "wechat", at(mon, "07:59"), true},
		{"overnight, daytime", night, "sms", at(mon, "12:00"), false},
		{"do not call", night, "phone", at(mon, "23:30"), false},
	} {
		if got := tt.p.Allows(tt.channel, tt.at, loc); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		in     contact.Input
		fields string
	}{
		{contact.Input{}, ""},
		{contact.Input{PreferredChannel: "wechat", ContactFrom: "08:30", ContactTo: "20:00", ContactDays: "weekends",
			Language: "en", DoNotCall: true, Note: "只接受微信"}, ""},
		{contact.Input{PreferredChannel: "fax", ContactDays: "sometimes", Language: "latin"}, "preferred_channel,contact_days,language"},
		{contact.Input{ContactFrom: "8:30", ContactTo: "20:00"}, "contact_from"},
		{contact.Input{ContactFrom: "08:30", ContactTo: "24:00"}, "contact_to"},
		{contact.Input{ContactTo: "20:00"}, "contact_to"},
	} {
		var got []string
		for _, f := range kehu.ErrorFields(tt.in.Validate()) {
			got = append(got, f.Field)
		}
		if s := join(got); s != tt.fields {
			t.Errorf("%+v: %q, want %q", tt.in, s, tt.fields)
		}
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// TestSetAndFor: the write scope decides (an RM of another outlet gets
// ENOTFOUND, a role without customer.write EFORBIDDEN), text is trimmed, and For hands
// the contact policy every customer asked for, zero values for the silent.
func TestSetAndFor(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.ContactService()
		a1, a2 := b.Customers["a1"].ID, b.Customers["a2"].ID
		p, err := svc.Set(b.As("rm_a"), a1, contact.Input{PreferredChannel: " wechat ", ContactFrom: "09:00",
			ContactTo: "17:30", Note: "  午休勿扰 "})
		if err != nil || p.PreferredChannel != "wechat" || p.Note != "午休勿扰" || p.UpdatedBy == nil ||
			*p.UpdatedBy != b.Users["rm_a"].ID {
			t.Fatalf("set: %+v %v", p, err)
		}
		if _, err := svc.Set(b.As("rm_b"), a1, contact.Input{Language: "en"}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("rm_b on a1: %v, want not found", err)
		}
		if _, err := svc.Set(b.As("hq_marketing"), a1, contact.Input{}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("marketing: %v, want forbidden", err)
		}
		got, err := svc.For(context.Background(), []int64{a1, a2})
		if err != nil || got[a1].ContactTo != "17:30" || got[a2] != (contact.Preferences{}) || len(got) != 2 {
			t.Errorf("for: %+v %v", got, err)
		}
	})
}
