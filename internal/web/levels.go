package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/level"
)

// levelsRoutes adds 客户等级规则 (docs/GOVERNANCE.md): the rule in force, the
// draft editor (a form per tier), its preview on the real data, activation,
// the version history and recompute runs.
func (s *server) levelsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /levels", s.signedIn(s.needLevels(s.levelsPage)))
	mux.HandleFunc("POST /levels/draft", s.signedIn(s.checkCSRF(s.needLevels(s.saveLevelDraft))))
	mux.HandleFunc("POST /levels/{version}/activate", s.signedIn(s.checkCSRF(s.needLevels(s.activateLevelRule))))
	mux.HandleFunc("POST /levels/runs", s.signedIn(s.checkCSRF(s.needLevels(s.startLevelRun))))
}

func (s *server) needLevels(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Levels == nil {
			s.notFound(w, r)
			return
		}
		if !access.Can(stateOf(r).actor.Role, access.LevelManage) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not manage the level rule"))
			return
		}
		h(w, r)
	}
}

// tierLevels are the tiers the form offers, lowest first.
var tierLevels = customer.Levels[1:]

// formRows is how many alternative conditions the form offers per tier.
const formRows = 3

// rateNames are the contribution rates, in form order.
var rateNames = []string{"current_deposit_bp", "time_deposit_bp", "wealth_bp", "fund_bp", "insurance_bp", "card_interchange_bp"}

// levelForm is the draft editor as typed.
type levelForm struct {
	Version          int // the draft being edited; 0 for a new one
	Tiers            []tierForm
	Rates            []formCell
	IncludeCorporate bool
	Note             string
}

type tierForm struct {
	Level string
	Rows  []rowForm
}

// rowForm is one alternative condition of a tier: N counts from 1.
type rowForm struct {
	N     int
	Cells []formCell
}

// formCell is one input: its name, the criterion or rate it holds, the
// value as typed, and whether it was refused.
type formCell struct {
	Name, Key, Value string
	Invalid          bool
}

// moneyCriterion reports whether a criterion is entered in yuan.
func moneyCriterion(c string) bool { return c != level.CriterionTransactions }

// formFromRule fills the editor from a stored rule.
func formFromRule(v level.Version) levelForm {
	f := levelForm{IncludeCorporate: v.Rule.IncludeCorporate, Note: v.Note}
	if v.Status == level.StatusDraft {
		f.Version = v.Version
	}
	for _, lvl := range tierLevels {
		t := tierForm{Level: lvl}
		tier, _ := v.Rule.Tier(lvl)
		for row := range formRows {
			var cells []formCell
			for _, c := range level.Criteria {
				cell := formCell{Name: "c." + lvl + "." + strconv.Itoa(row) + "." + c, Key: c}
				if row < len(tier.Any) {
					if th, ok := tier.Any[row].Threshold(c); ok {
						cell.Value = strconv.FormatInt(th, 10)
						if moneyCriterion(c) {
							cell.Value = yuanText(th)
						}
					}
				}
				cells = append(cells, cell)
			}
			t.Rows = append(t.Rows, rowForm{N: row + 1, Cells: cells})
		}
		f.Tiers = append(f.Tiers, t)
	}
	rates := []int64{v.Rule.Contribution.CurrentDepositBP, v.Rule.Contribution.TimeDepositBP, v.Rule.Contribution.WealthBP,
		v.Rule.Contribution.FundBP, v.Rule.Contribution.InsuranceBP, v.Rule.Contribution.CardInterchangeBP}
	for i, n := range rateNames {
		f.Rates = append(f.Rates, formCell{Name: "r." + n, Key: n, Value: strconv.FormatInt(rates[i], 10)})
	}
	return f
}

// yuanText shows fen as plain yuan for an input ("50000", "1234.5").
func yuanText(fen int64) string {
	s := strconv.FormatInt(fen/100, 10)
	if c := fen % 100; c != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(100+c, 10)[1:], "0")
	}
	return s
}

var amountPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// parseThreshold reads "50,000", "50000.5" or "5万" as fen.
func parseThreshold(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), "，", "")
	mult := int64(1)
	if rest, ok := strings.CutSuffix(s, "万"); ok {
		s, mult = rest, 10_000
	}
	if !amountPattern.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1_000_000_000_000 {
		return 0, false
	}
	frac = (frac + "00")[:2]
	c, _ := strconv.ParseInt(frac, 10, 64)
	return (w*100 + c) * mult, true
}

// slot maps a rule part back to the form cell it came from.
type slot struct {
	level string
	rows  []int // rows[j] is the form row of the rule's condition j
}

// ruleFromForm reads the editor into a rule; cells that do not parse are
// marked. The returned slots map the rule's tiers and conditions back to
// the form, so the service's field errors can mark the right inputs.
func ruleFromForm(r *http.Request) (levelForm, level.Rule, []slot, bool) {
	f := levelForm{Note: r.PostFormValue("note"), IncludeCorporate: r.PostFormValue("include_corporate") == "1"}
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	rule := level.Rule{IncludeCorporate: f.IncludeCorporate}
	var slots []slot
	ok := true
	for _, lvl := range tierLevels {
		t := tierForm{Level: lvl}
		tier := level.Tier{Level: lvl}
		sl := slot{level: lvl}
		for row := range formRows {
			var cells []formCell
			var cond level.Condition
			set := false
			for _, c := range level.Criteria {
				cell := formCell{Name: "c." + lvl + "." + strconv.Itoa(row) + "." + c, Key: c}
				cell.Value = strings.TrimSpace(r.PostFormValue(cell.Name))
				if cell.Value != "" {
					var v int64
					var good bool
					if moneyCriterion(c) {
						v, good = parseThreshold(cell.Value)
					} else {
						n, err := strconv.ParseInt(cell.Value, 10, 64)
						v, good = n, err == nil
					}
					if good {
						cond = cond.Set(c, &v)
						set = true
					} else {
						cell.Invalid, ok = true, false
					}
				}
				cells = append(cells, cell)
			}
			t.Rows = append(t.Rows, rowForm{N: row + 1, Cells: cells})
			if set {
				tier.Any = append(tier.Any, cond)
				sl.rows = append(sl.rows, row)
			}
		}
		f.Tiers = append(f.Tiers, t)
		if len(tier.Any) > 0 {
			rule.Tiers = append(rule.Tiers, tier)
			slots = append(slots, sl)
		}
	}
	rates := []*int64{&rule.Contribution.CurrentDepositBP, &rule.Contribution.TimeDepositBP, &rule.Contribution.WealthBP,
		&rule.Contribution.FundBP, &rule.Contribution.InsuranceBP, &rule.Contribution.CardInterchangeBP}
	for i, n := range rateNames {
		cell := formCell{Name: "r." + n, Key: n, Value: strings.TrimSpace(r.PostFormValue("r." + n))}
		v, err := strconv.ParseInt(cell.Value, 10, 64)
		if cell.Value != "" && err != nil {
			cell.Invalid, ok = true, false
		}
		*rates[i] = v
		f.Rates = append(f.Rates, cell)
	}
	return f, rule, slots, ok
}

var rulePart = regexp.MustCompile(`^rule\.tiers\[(\d+)\]\.any\[(\d+)\](?:\.(\w+))?$`)

// markErrors marks the inputs the service's field errors name and returns
// whether every error found an input (others are shown as a list).
func (f *levelForm) markErrors(err error, slots []slot) []string {
	var other []string
	mark := func(name string) bool {
		found := false
		for ti := range f.Tiers {
			for ri := range f.Tiers[ti].Rows {
				for ci := range f.Tiers[ti].Rows[ri].Cells {
					c := &f.Tiers[ti].Rows[ri].Cells[ci]
					if c.Name == name || strings.HasPrefix(c.Name, name+".") {
						c.Invalid, found = true, true
					}
				}
			}
		}
		for i := range f.Rates {
			if f.Rates[i].Name == name {
				f.Rates[i].Invalid, found = true, true
			}
		}
		return found
	}
	for _, fe := range kehu.ErrorFields(err) {
		name := ""
		if m := rulePart.FindStringSubmatch(fe.Field); m != nil {
			ti, _ := strconv.Atoi(m[1])
			ci, _ := strconv.Atoi(m[2])
			if ti < len(slots) && ci < len(slots[ti].rows) {
				name = "c." + slots[ti].level + "." + strconv.Itoa(slots[ti].rows[ci])
				if m[3] != "" {
					name += "." + strings.TrimPrefix(m[3], "min_")
				}
			}
		} else if rate, ok := strings.CutPrefix(fe.Field, "rule.contribution."); ok {
			name = "r." + rate
		}
		if name == "" || !mark(name) {
			other = append(other, fe.Field+": "+fe.Reason)
		}
	}
	return other
}

// versionView is a stored version with its tiers worded in the page's language.
type versionView struct {
	level.Version
	Tiers []tierText
}

type tierText struct{ Level, Text string }

func wordVersion(v level.Version, lang string) versionView {
	out := versionView{Version: v}
	for _, t := range v.Rule.Tiers {
		out.Tiers = append(out.Tiers, tierText{Level: t.Level, Text: ruleText(t, lang)})
	}
	return out
}

// previewView is a preview with the change per level worded.
type previewView struct {
	level.Distribution
	Rows []previewRow
}

type previewRow struct {
	Level           string
	Active, Preview int64
	Delta           string // "+3", "-1", "0"
}

func newPreview(d level.Distribution) *previewView {
	p := &previewView{Distribution: d}
	for _, l := range d.Levels {
		delta := strconv.FormatInt(l.Preview-l.Active, 10)
		if l.Preview > l.Active {
			delta = "+" + delta
		}
		p.Rows = append(p.Rows, previewRow{Level: l.Level, Active: l.Active, Preview: l.Preview, Delta: delta})
	}
	return p
}

// levelsView is the page.
type levelsView struct {
	Active    versionView
	Form      levelForm
	Preview   *previewView
	Versions  []versionView
	Runs      []level.Run
	Notice    string // catalogue key
	ErrorKey  string // catalogue key
	Problems  []string
	RunActive bool
}

var levelNotices = map[string]string{"saved": "levels.done.saved", "activated": "levels.done.activated",
	"recompute": "levels.done.recompute"}

// loadLevels fills everything but the form.
func (s *server) loadLevels(r *http.Request, v *levelsView) error {
	vs, err := s.Levels.Versions(r.Context())
	if err != nil {
		return err
	}
	lang := stateOf(r).lang
	v.Versions = nil
	for _, x := range vs {
		w := wordVersion(x, lang)
		v.Versions = append(v.Versions, w)
		if x.Status == level.StatusActive {
			v.Active = w
		}
	}
	if v.Runs, err = s.Levels.Runs(r.Context(), 5); err != nil {
		return err
	}
	for _, run := range v.Runs {
		v.RunActive = v.RunActive || run.Status == level.RunRunning
	}
	return nil
}

// levelsPage shows the rule in force, the editor (on the newest draft, or a
// copy of the active rule), the history and the runs.
func (s *server) levelsPage(w http.ResponseWriter, r *http.Request) {
	v := levelsView{Notice: levelNotices[r.URL.Query().Get("done")]}
	if err := s.loadLevels(r, &v); err != nil {
		s.fail(w, r, err)
		return
	}
	base := v.Active.Version
	for _, x := range v.Versions {
		if x.Status == level.StatusDraft {
			base = x.Version
			break
		}
	}
	v.Form = formFromRule(base)
	if base.Status != level.StatusDraft {
		v.Form.Note = ""
	}
	s.render(w, r, http.StatusOK, "levels", "layout.html", s.newView(w, r, "levels.title", "levels", v))
}

// saveLevelDraft stores the editor as a draft (new, or the one being
// edited) and, when asked, previews it on the real data at once.
func (s *server) saveLevelDraft(w http.ResponseWriter, r *http.Request) {
	form, rule, slots, ok := ruleFromForm(r)
	v := levelsView{Form: form}
	refuse := func(key string, err error) {
		v.ErrorKey = key
		if err != nil {
			v.Problems = v.Form.markErrors(err, slots)
		}
		if lerr := s.loadLevels(r, &v); lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		s.render(w, r, http.StatusUnprocessableEntity, "levels", "layout.html", s.newView(w, r, "levels.title", "levels", v))
	}
	if !ok {
		refuse("levels.error.numbers", nil)
		return
	}
	var saved level.Version
	var err error
	if form.Version > 0 {
		saved, err = s.Levels.UpdateDraft(r.Context(), form.Version, rule, form.Note)
	} else {
		saved, err = s.Levels.CreateDraft(r.Context(), rule, form.Note)
	}
	switch kehu.ErrorCode(err) {
	case "":
	case kehu.EINVALID:
		refuse("levels.error.invalid", err)
		return
	case kehu.ECONFLICT, kehu.ENOTFOUND:
		v.Form.Version = 0
		refuse("levels.error.not_draft", nil)
		return
	default:
		s.fail(w, r, err)
		return
	}
	if r.PostFormValue("action") != "preview" {
		http.Redirect(w, r, "/levels?done=saved#editor", http.StatusSeeOther)
		return
	}
	d, err := s.Levels.Preview(r.Context(), saved.Version)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v = levelsView{Form: formFromRule(saved), Preview: newPreview(d), Notice: "levels.done.previewed"}
	if err := s.loadLevels(r, &v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "levels", "layout.html", s.newView(w, r, "levels.title", "levels", v))
}

// activateLevelRule puts a draft in force; the box confirming the preview
// was read must be ticked.
func (s *server) activateLevelRule(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		s.notFound(w, r)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		v := levelsView{ErrorKey: "levels.error.confirm"}
		if err := s.loadLevels(r, &v); err != nil {
			s.fail(w, r, err)
			return
		}
		draft, err := s.Levels.Version(r.Context(), n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Form = formFromRule(draft)
		s.render(w, r, http.StatusUnprocessableEntity, "levels", "layout.html", s.newView(w, r, "levels.title", "levels", v))
		return
	}
	if _, err := s.Levels.Activate(r.Context(), n); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/levels?done=activated", http.StatusSeeOther)
}

// startLevelRun starts a recompute of every customer in the background.
func (s *server) startLevelRun(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Levels.StartRecompute(r.Context()); err != nil {
		if kehu.ErrorCode(err) == kehu.ECONFLICT {
			v := levelsView{ErrorKey: "levels.error.run_active"}
			if err := s.loadLevels(r, &v); err != nil {
				s.fail(w, r, err)
				return
			}
			v.Form = formFromRule(v.Active.Version)
			v.Form.Note = ""
			s.render(w, r, http.StatusConflict, "levels", "layout.html", s.newView(w, r, "levels.title", "levels", v))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/levels?done=recompute#runs", http.StatusSeeOther)
}

// ruleText words a rule's tiers for the history and the rule in force:
// "AUM ≥ ¥50,000.00 或 近3月月末平均AUM ≥ ¥50,000.00".
func ruleText(t level.Tier, lang string) string {
	and, or := " 且 ", " 或 "
	if strings.HasPrefix(lang, "en") {
		and, or = " and ", " or "
	}
	var alts []string
	for _, c := range t.Any {
		var parts []string
		for _, cr := range level.Criteria {
			th, ok := c.Threshold(cr)
			if !ok {
				continue
			}
			v := strconv.FormatInt(th, 10)
			if moneyCriterion(cr) {
				v = formatMoney(th)
			}
			parts = append(parts, level.CriterionName(cr, lang)+" ≥ "+v)
		}
		alts = append(alts, strings.Join(parts, and))
	}
	return strings.Join(alts, or)
}
