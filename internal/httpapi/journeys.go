package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"kehu/internal/journey"
	jreport "kehu/internal/journey/report"
	"kehu/internal/kehu"
)

func (a *api) journeysEnabled() error {
	if a.d.Journeys == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "journeys are not enabled on this server")
	}
	return nil
}

// journeyBody creates or replaces a journey; the definition is kept raw so
// its mistakes come back as 422 naming the member.
type journeyBody struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Definition  json.RawMessage `json:"definition"`
	Status      string          `json:"status"`
}

func (b journeyBody) input() journey.Input {
	return journey.Input{Name: b.Name, Description: b.Description, Definition: b.Definition, Status: b.Status}
}

type journeyList struct {
	Items []journey.Journey `json:"items"`
}

func (a *api) listJourneys(w http.ResponseWriter, r *http.Request) error {
	if err := a.journeysEnabled(); err != nil {
		return err
	}
	js, err := a.d.Journeys.List(r.Context())
	if err != nil {
		return err
	}
	if js == nil {
		js = []journey.Journey{}
	}
	writeJSON(w, http.StatusOK, journeyList{Items: js})
	return nil
}

func (a *api) createJourney(w http.ResponseWriter, r *http.Request) error {
	if err := a.journeysEnabled(); err != nil {
		return err
	}
	var in journeyBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	j, err := a.d.Journeys.Create(r.Context(), in.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/journeys/"+strconv.FormatInt(j.ID, 10))
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// journeyCall runs fn with the {id} of the path and writes its answer.
func (a *api) journeyCall(w http.ResponseWriter, r *http.Request, fn func(id int64) (any, error)) error {
	if err := a.journeysEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := fn(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) getJourney(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) { return a.d.Journeys.Get(r.Context(), id) })
}

func (a *api) updateJourney(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		var in journeyBody
		if err := decodeJSON(w, r, &in); err != nil {
			return nil, err
		}
		return a.d.Journeys.Update(r.Context(), id, in.input())
	})
}

func (a *api) pauseJourney(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		return a.d.Journeys.SetStatus(r.Context(), id, journey.Paused)
	})
}

func (a *api) resumeJourney(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		return a.d.Journeys.SetStatus(r.Context(), id, journey.Active)
	})
}

type journeyVersionList struct {
	Items []journey.Version `json:"items"`
}

func (a *api) journeyVersions(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		vs, err := a.d.Journeys.Versions(r.Context(), id)
		if vs == nil {
			vs = []journey.Version{}
		}
		return journeyVersionList{Items: vs}, err
	})
}

type firingPage struct {
	Items      []journey.Firing `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

func (a *api) journeyFirings(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		limit, after, issues := pageParams(r, nil)
		if len(issues) > 0 {
			return nil, badBody("a query parameter is invalid", issues...)
		}
		if limit == 0 {
			limit = 50
		}
		fs, err := a.d.Journeys.Firings(r.Context(), id, after.AfterID, limit)
		if err != nil {
			return nil, err
		}
		out := firingPage{Items: fs}
		if len(fs) == limit {
			out.NextCursor = kehu.Cursor{AfterID: fs[len(fs)-1].ID}.Next()
		}
		return out, nil
	})
}

func (a *api) journeyResults(w http.ResponseWriter, r *http.Request) error {
	return a.journeyCall(w, r, func(id int64) (any, error) {
		p, err := periodOf(r)
		if err != nil {
			return nil, err
		}
		_, res, err := a.d.Journeys.ResultsIn(r.Context(), id, p)
		return res, err
	})
}

// periodOf reads the optional from and to days of a results request; a
// malformed day is a 400 naming it (to before from is the service's 422).
func periodOf(r *http.Request) (journey.Period, error) {
	var p journey.Period
	var issues []FieldIssue
	for _, f := range []struct {
		name string
		d    *kehu.Date
	}{{"from", &p.From}, {"to", &p.To}} {
		s := r.URL.Query().Get(f.name)
		if s == "" {
			continue
		}
		d, err := kehu.ParseDate(s)
		if err != nil {
			issues = append(issues, FieldIssue{f.name, "must be a date YYYY-MM-DD"})
			continue
		}
		*f.d = d
	}
	if len(issues) > 0 {
		return p, badBody("a query parameter is invalid", issues...)
	}
	return p, nil
}

// journeyResultsXLSX answers the results workbook over the period
// (resultsXLSX); ?firings=none leaves the firing list out.
func (a *api) journeyResultsXLSX(w http.ResponseWriter, r *http.Request) error {
	if err := a.journeysEnabled(); err != nil {
		return err
	}
	if a.d.JourneyReports == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "journey results are not enabled on this server")
	}
	id, err := pathIDOf(r, "journey")
	if err != nil {
		return err
	}
	p, err := periodOf(r)
	if err != nil {
		return err
	}
	return resultsXLSX(w, r, "firings", "firing list", "journey-"+strconv.FormatInt(id, 10)+"-results.xlsx",
		func(lang string, none bool, buf *bytes.Buffer) error {
			_, err := a.d.JourneyReports.ExportWith(r.Context(), id, p, lang, buf, jreport.Options{NoFirings: none})
			return err
		})
}
