package web

import (
	"net/http"

	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// provenanceRoutes serve the 数据来源 panel of the customer page: where each
// field's value came from and the customer's records in the source systems
// (docs/C360.md). It is its own audited read (customer.provenance), loaded
// when the tab is opened, so the customer page itself stays one record.
func (s *server) provenanceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /customers/{id}/provenance", s.signedIn(s.provenancePage))
}

// provenancePanel is the 数据来源 panel: no field values, only their sources.
type provenancePanel struct {
	CustomerID int64
	identity.FieldProvenance
	// Systems by code, for the names in the page's language.
	Names map[string]identity.SourceSystem
}

// SystemName returns a source system's name in both languages (the page
// picks with local); an unconfigured code is shown as it is.
func (p provenancePanel) SystemName(code string) identity.SourceSystem {
	if x, ok := p.Names[code]; ok {
		return x
	}
	return identity.SourceSystem{Code: code, Name: code, NameEN: code}
}

func (s *server) provenancePage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok || s.Identity == nil {
		s.fragmentFail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such customer"))
		return
	}
	fp, err := s.Identity.Provenance(r.Context(), id)
	if err != nil {
		s.fragmentFail(w, r, err)
		return
	}
	p := provenancePanel{CustomerID: id, FieldProvenance: fp, Names: map[string]identity.SourceSystem{}}
	for _, x := range fp.Systems {
		p.Names[x.Code] = x
	}
	s.renderPanel(w, r, http.StatusOK, "provenance", "provenance_panel", "c360.prov.title", p)
}
