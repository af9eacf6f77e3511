package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"kehu/internal/level"
)

// levelRuleBody is the body of POST and PUT /api/v1/level-rules: the rule
// (its JSON form, docs/GOVERNANCE.md) and a note saying why it changes.
type levelRuleBody struct {
	Rule *level.Rule `json:"rule"`
	Note string      `json:"note"`
}

// levelsEnabled answers 404 when the server runs without the level engine.
func (a *api) levelsEnabled() error {
	if a.d.Levels == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "customer levels are not enabled on this server")
	}
	return nil
}

// pathVersion reads {version}; a malformed one names nothing (404).
func pathVersion(r *http.Request) (int, error) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return 0, newProblem(http.StatusNotFound, ProblemNotFound, "no such level rule version")
	}
	return v, nil
}

// decodeRule reads a rule body; a missing rule is a 422 naming it.
func decodeRule(w http.ResponseWriter, r *http.Request) (level.Rule, string, error) {
	var in levelRuleBody
	if err := decodeJSON(w, r, &in); err != nil {
		return level.Rule{}, "", err
	}
	if in.Rule == nil {
		return level.Rule{}, "", newProblem(http.StatusUnprocessableEntity, ProblemValidation, "validation failed",
			FieldIssue{Field: "rule", Message: "is required"})
	}
	return *in.Rule, in.Note, nil
}

type levelRulePage struct {
	Items []level.Version `json:"items"`
}

func (a *api) listLevelRules(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	vs, err := a.d.Levels.Versions(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, levelRulePage{Items: append([]level.Version{}, vs...)})
	return nil
}

func (a *api) createLevelRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	rule, note, err := decodeRule(w, r)
	if err != nil {
		return err
	}
	v, err := a.d.Levels.CreateDraft(r.Context(), rule, note)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/level-rules/"+strconv.Itoa(v.Version))
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *api) getLevelRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	v, err := a.d.Levels.Version(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *api) updateLevelRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	rule, note, err := decodeRule(w, r)
	if err != nil {
		return err
	}
	v, err := a.d.Levels.UpdateDraft(r.Context(), n, rule, note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *api) previewLevelRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	d, err := a.d.Levels.Preview(r.Context(), n)
	if err != nil {
		return err
	}
	if d.Moves == nil {
		d.Moves = []level.Move{}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *api) activateLevelRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	v, err := a.d.Levels.Activate(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type levelRunPage struct {
	Items []level.Run `json:"items"`
}

func (a *api) listLevelRuns(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	limit, _, issues := pageParams(r, nil)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	runs, err := a.d.Levels.Runs(r.Context(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, levelRunPage{Items: append([]level.Run{}, runs...)})
	return nil
}

// startLevelRun starts a recompute of every customer in the background: 202
// with the running run and its Location to follow.
func (a *api) startLevelRun(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	run, err := a.d.Levels.StartRecompute(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/level-runs/"+strconv.FormatInt(run.ID, 10))
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

func (a *api) getLevelRun(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return newProblem(http.StatusNotFound, ProblemNotFound, "no such run")
	}
	run, err := a.d.Levels.GetRun(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// levelReasonJSON is a reason with its wording in both languages.
type levelReasonJSON struct {
	level.Reason
	TextZH string `json:"text_zh"`
	TextEN string `json:"text_en"`
}

// customerLevelJSON is the body of GET /api/v1/customers/{id}/level.
type customerLevelJSON struct {
	CustomerID   int64             `json:"customer_id"`
	Level        string            `json:"level"`
	Computed     bool              `json:"computed"`
	RuleVersion  int               `json:"rule_version"`
	ComputedAt   *time.Time        `json:"computed_at"`
	Metrics      level.Metrics     `json:"metrics"`
	Contribution int64             `json:"contribution"`
	Reasons      []levelReasonJSON `json:"reasons"`
	History      []level.Change    `json:"history"`
}

func (a *api) customerLevel(w http.ResponseWriter, r *http.Request) error {
	if err := a.levelsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cl, err := a.d.Levels.CustomerLevel(r.Context(), id)
	if err != nil {
		return err
	}
	out := customerLevelJSON{CustomerID: cl.CustomerID, Level: cl.Level, Computed: cl.Computed, RuleVersion: cl.RuleVersion,
		Metrics: cl.Metrics, Contribution: cl.Contribution, Reasons: []levelReasonJSON{},
		History: append([]level.Change{}, cl.History...)}
	if cl.Computed {
		at := cl.ComputedAt
		out.ComputedAt = &at
	}
	for _, x := range cl.Reasons {
		out.Reasons = append(out.Reasons, levelReasonJSON{Reason: x, TextZH: x.Text("zh-CN"), TextEN: x.Text("en")})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
