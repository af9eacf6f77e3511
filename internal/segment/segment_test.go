package segment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/segment"
)

func TestParseNamesTheBadPart(t *testing.T) {
	for _, c := range []struct{ rule, field, msg string }{
		{`{"all":[{"field":"risk_level","op":">=","value":3},{"any":[{"field":"aum_x","op":">","value":1}]}]}`,
			"rule.all[1].any[0]", `all[1].any[0]: unknown field "aum_x"`},
		{`{"all":[{"field":"risk_level","op":">=","value":"high"}]}`, "rule.all[0].value",
			`field "risk_level" needs a whole number, got "high"`},
		{`{"field":"risk_level","op":">=","value":9}`, "rule.value", "takes values from 1 to 5"},
		{`{"field":"gender","op":">","value":"M"}`, "rule.op", `operator ">" does not apply to enum field "gender"`},
		{`{"field":"level","op":"=","value":"vip"}`, "rule.value", `takes one of "standard"`},
		{`{"field":"inflow_sum","op":">=","value":100000}`, "rule.window_days", "needs window_days"},
		{`{"field":"aum","op":">=","value":1,"window_days":7}`, "rule.window_days", "has no time window"},
		{`{"field":"aum","op":">=","value":1.005}`, "rule.value", "at most two decimals"},
		{`{"field":"age","op":"between","value":[60,18]}`, "rule.value", "must not exceed"},
		{`{"field":"age","op":"between","value":[18]}`, "rule.value", "exactly two values"},
		{`{"field":"age","op":"in","value":[]}`, "rule.value", "1 to 100 values"},
		{`{"field":"age","op":"is_null","value":3}`, "rule.value", "takes no value"},
		{`{"field":"event_count","op":">=","value":1,"window_days":30}`, "rule.event", `needs "event"`},
		{`{"field":"event_count","op":">=","value":1,"window_days":30,"event":"dance"}`, "rule.event", "must be one of"},
		{`{"any":[{"not":{"field":"created_on","op":">=","value":"2024-02-30"}}]}`, "rule.any[0].not.value", "YYYY-MM-DD"},
		{`{"all":[],"any":[]}`, "rule", "exactly one of"},
		{`{"all":[{"fild":"aum"}]}`, "rule.all[0]", `unknown member "fild"`},
		{`{"segment":0}`, "rule.segment", "positive integer"},
		{`[]`, "rule", "must be a JSON object"},
		{`{"field":"aum","op":"~","value":1}`, "rule.op", `unknown operator "~"`},
	} {
		_, err := segment.Parse([]byte(c.rule))
		if kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("%s: err %v, want invalid", c.rule, err)
			continue
		}
		fs := kehu.ErrorFields(err)
		if len(fs) != 1 || fs[0].Field != c.field || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s:\n got %v\nwant field %s and %q", c.rule, err, c.field, c.msg)
		}
	}
}

func TestParseCanonical(t *testing.T) {
	r, err := segment.Parse([]byte(`{"all":[{"field":"risk_level","op":">=","value":3},
		{"field":"inflow_sum","window_days":7,"op":">=","value":100000.50},
		{"not":{"field":"holds_product_type","op":"=","value":"wealth"}}, {"any":[]}, {"segment":4}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"all":[{"field":"risk_level","op":">=","value":3},{"field":"inflow_sum","op":">=","value":100000.5,"window_days":7},` +
		`{"not":{"field":"holds_product_type","op":"=","value":"wealth"}},{"any":[]},{"segment":4}]}`
	if got := string(r.JSON()); got != want {
		t.Errorf("canonical\n got %s\nwant %s", got, want)
	}
	again, err := segment.Parse(r.JSON())
	if err != nil || string(again.JSON()) != want {
		t.Errorf("round trip: %v %s", err, again.JSON())
	}
}

func TestCyclicReference(t *testing.T) {
	rules := map[int64]string{
		1: `{"segment":2}`,
		2: `{"all":[{"field":"aum","op":">","value":0},{"segment":3}]}`,
		3: `{"any":[{"segment":1}]}`,
		4: `{"field":"aum","op":">","value":0}`,
	}
	env := segment.Env{Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		Segment: func(_ context.Context, id int64) (segment.Ref, error) {
			r, ok := rules[id]
			if !ok {
				return segment.Ref{}, kehu.Errorf(kehu.ENOTFOUND, "segment not found")
			}
			return segment.Ref{ID: id, Rule: []byte(r)}, nil
		}}
	r, _ := segment.Parse([]byte(`{"all":[{"segment":4},{"segment":1}]}`))
	_, err := segment.NewPlan(context.Background(), r, env)
	if kehu.ErrorCode(err) != kehu.EINVALID || !strings.Contains(err.Error(), "cyclic segment reference: 1 → 2 → 3 → 1") {
		t.Errorf("cycle: %v", err)
	}
	// Saving segment 4 with a rule naming 4 itself is a cycle too.
	env.Self = 4
	r, _ = segment.Parse([]byte(`{"not":{"segment":4}}`))
	if _, err := segment.NewPlan(context.Background(), r, env); !strings.Contains(err.Error(), "not.segment: cyclic segment reference: 4 → 4") {
		t.Errorf("self: %v", err)
	}
	env.Self = 0
	r, _ = segment.Parse([]byte(`{"segment":9}`))
	if _, err := segment.NewPlan(context.Background(), r, env); !strings.Contains(err.Error(), "unknown segment 9") {
		t.Errorf("unknown: %v", err)
	}
	r, _ = segment.Parse([]byte(`{"any":[{"segment":4},{"segment":4}]}`)) // twice is not a cycle
	if _, err := segment.NewPlan(context.Background(), r, env); err != nil {
		t.Errorf("diamond: %v", err)
	}
}

func TestAge(t *testing.T) {
	d := func(s string) kehu.Date { x, _ := kehu.ParseDate(s); return x }
	for _, c := range []struct {
		birth, today string
		age          int64
	}{
		{"1990-05-01", "2026-05-01", 36}, {"1990-05-02", "2026-05-01", 35}, {"2000-02-29", "2026-02-28", 25},
		{"2000-02-29", "2026-03-01", 26}, {"2000-02-29", "2028-02-29", 28}, {"2027-01-01", "2026-05-01", -1},
	} {
		if got := segment.Age(d(c.birth), d(c.today)); got != c.age {
			t.Errorf("age of %s on %s = %d, want %d", c.birth, c.today, got, c.age)
		}
	}
}

// TestUnknownValues pins the two-valued semantics of unknown values.
func TestUnknownValues(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	eval := func(rule string, f segment.Facts) bool {
		r, err := segment.Parse([]byte(rule))
		if err != nil {
			t.Fatal(err)
		}
		p, err := segment.NewPlan(context.Background(), r, segment.Env{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return p.Eval(&f)
	}
	unknown := segment.Facts{} // no gender, no risk level, no birth date
	for rule, want := range map[string]bool{
		`{"field":"gender","op":"=","value":"M"}`:                     false,
		`{"field":"gender","op":"!=","value":"M"}`:                    false,
		`{"field":"gender","op":"not_in","value":["M"]}`:              false,
		`{"not":{"field":"gender","op":"=","value":"M"}}`:             true,
		`{"field":"gender","op":"is_null"}`:                           true,
		`{"field":"risk_level","op":"<","value":3}`:                   false,
		`{"field":"age","op":"is_not_null"}`:                          false,
		`{"field":"inflow_sum","op":"<","value":100,"window_days":7}`: true, // no postings: 0
		`{"field":"holds_product_type","op":"!=","value":"wealth"}`:   true, // holds none
		`{"field":"holds_product_type","op":"is_null"}`:               true,
		`{"field":"risk_valid","op":"=","value":false}`:               true,
		`{"all":[]}`: true,
		`{"any":[]}`: false,
		`{"field":"event_count","op":"=","value":0,"window_days":3,"event":"login"}`: true,
	} {
		if got := eval(rule, unknown); got != want {
			t.Errorf("%s on unknown values = %v, want %v", rule, got, want)
		}
	}
}

func TestCatalogueLinksDictionary(t *testing.T) {
	for _, f := range segment.Catalogue() {
		if f.LabelZH == "" || f.LabelEN == "" || len(f.Ops) == 0 {
			t.Errorf("%s: labels and operators required", f.Name)
		}
		if f.Dict != nil {
			if _, ok := f.Dictionary(); !ok {
				t.Errorf("%s: dictionary entry %s.%s does not exist", f.Name, f.Dict.Table, f.Dict.Column)
			}
		}
	}
}
