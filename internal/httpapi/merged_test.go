package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMergedCustomerAnswers: a merged tombstone's customer and 360 answers
// name the survivor (merged_into); the 360 says when and whether the caller
// may open the survivor — a teller of the tombstone's outlet may not (the
// survivor is homed at the other outlet), the branch manager may.
func TestMergedCustomerAnswers(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a1, b1 := e.bank.Customers["a1"], e.bank.Customers["b1"]
		pair := e.bank.QueueDuplicate(t, a1.ID, b1.ID)
		if _, err := e.bank.Merger().Merge(e.bank.As("branch_manager"), pair, b1.ID, "同一人"); err != nil {
			t.Fatal(err)
		}
		mergedAt := e.bank.Clock.Now().UTC()
		for _, who := range []struct {
			user    string
			visible bool
		}{{"teller_a", false}, {"branch_manager", true}} {
			s := e.login(who.user)
			var c struct {
				Status     string `json:"status"`
				MergedInto *int64 `json:"merged_into"`
			}
			r := e.do(call{method: "GET", path: "/api/v1/customers/" + id(a1.ID), token: s.token})
			r.decode(t, &c)
			if r.Code != http.StatusOK || c.Status != "merged" || c.MergedInto == nil || *c.MergedInto != b1.ID {
				t.Fatalf("%s: tombstone %d %s", who.user, r.Code, r.Body)
			}
			var v struct {
				Profile struct {
					MergedInto *int64 `json:"merged_into"`
				} `json:"profile"`
				Merged *struct {
					Into     int64      `json:"into"`
					MergedAt *time.Time `json:"merged_at"`
					Visible  bool       `json:"visible"`
				} `json:"merged"`
			}
			r = e.do(call{method: "GET", path: "/api/v1/customers/" + id(a1.ID) + "/360", token: s.token})
			r.decode(t, &v)
			if r.Code != http.StatusOK || v.Merged == nil || v.Merged.Into != b1.ID || v.Merged.Visible != who.visible ||
				v.Merged.MergedAt == nil || !v.Merged.MergedAt.Equal(mergedAt) || v.Profile.MergedInto == nil {
				t.Errorf("%s: 360 of the tombstone %d %s", who.user, r.Code, r.Body)
			}
		}
		// Every other customer: null.
		s := e.login("branch_manager")
		r := e.do(call{method: "GET", path: "/api/v1/customers/" + id(b1.ID) + "/360", token: s.token})
		var v map[string]any
		r.decode(t, &v)
		if v["merged"] != nil || v["profile"].(map[string]any)["merged_into"] != nil {
			t.Errorf("survivor: merged %v, merged_into %v", v["merged"], v["profile"].(map[string]any)["merged_into"])
		}
	})
}
