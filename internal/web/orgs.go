package web

import (
	"net/http"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// orgTree lists the organisation tree, indented by depth. The page is for
// roles holding org.read; the navigation hides it from the others.
func (s *server) orgTree(w http.ResponseWriter, r *http.Request) {
	if !access.Can(stateOf(r).actor.Role, access.OrgRead) {
		s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "org.read required"))
		return
	}
	orgs, err := s.Orgs.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "orgs", "layout.html", s.newView(w, r, "orgs.title", "orgs", orgs))
}
