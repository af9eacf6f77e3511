package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"kehu/internal/segment"
)

func (a *api) segmentsEnabled() error {
	if a.d.Segments == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "segments are not enabled on this server")
	}
	return nil
}

// segmentField is a catalogue entry with the governed dictionary's
// definition and sensitivity where the field has an entry.
type segmentField struct {
	segment.Field
	DefinitionZH string `json:"definition_zh,omitempty"`
	DefinitionEN string `json:"definition_en,omitempty"`
	Sensitivity  string `json:"sensitivity,omitempty"`
}

type segmentFields struct {
	Categories []string       `json:"categories"`
	Ops        []segment.Op   `json:"ops"`
	Fields     []segmentField `json:"fields"`
}

func (a *api) segmentFields(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	fs, err := a.d.Segments.Fields(r.Context())
	if err != nil {
		return err
	}
	out := segmentFields{Categories: segment.Categories, Ops: segment.AllOps, Fields: make([]segmentField, 0, len(fs))}
	for _, f := range fs {
		v := segmentField{Field: f}
		if e, ok := f.Dictionary(); ok {
			v.DefinitionZH, v.DefinitionEN, v.Sensitivity = e.DefinitionZH, e.DefinitionEN, string(e.Class)
		}
		out.Fields = append(out.Fields, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// segmentRuleBody is the body of POST /api/v1/segments/count. The rule is
// kept raw so its mistakes come back as 422 naming the bad part, not as a
// 400 about the body.
type segmentRuleBody struct {
	Rule json.RawMessage `json:"rule"`
}

func (a *api) countSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	var in segmentRuleBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := a.d.Segments.Count(r.Context(), in.Rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"count": n})
	return nil
}

type segmentPage struct {
	Items []segment.Segment `json:"items"`
}

func (a *api) listSegments(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	gs, err := a.d.Segments.List(r.Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []segment.Segment{}
	}
	writeJSON(w, http.StatusOK, segmentPage{Items: gs})
	return nil
}

// segmentBody creates or replaces a segment.
type segmentBody struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Rule        json.RawMessage `json:"rule"`
	Kind        string          `json:"kind"`
}

func (b segmentBody) input() segment.Input {
	return segment.Input{Name: b.Name, Description: b.Description, Rule: b.Rule, Kind: b.Kind}
}

func (a *api) createSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	var in segmentBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := a.d.Segments.Create(r.Context(), in.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/segments/"+strconv.FormatInt(g.ID, 10))
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (a *api) getSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := a.d.Segments.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *api) updateSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in segmentBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := a.d.Segments.Update(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *api) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Segments.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) snapshotSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := a.d.Segments.Snapshot(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *api) segmentMembers(w http.ResponseWriter, r *http.Request) error {
	if err := a.segmentsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, after, issues := pageParams(r, nil)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	p, err := a.d.Segments.Members(r.Context(), id, after, limit)
	if err != nil {
		return err
	}
	out := customerPage{Items: make([]customerJSON, 0, len(p.Items))}
	for _, c := range p.Items {
		out.Items = append(out.Items, customerView(c))
	}
	out.NextCursor = p.NextCursor.Next()
	writeJSON(w, http.StatusOK, out)
	return nil
}
