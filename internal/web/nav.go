package web

import (
	"net/http"
	"slices"

	"kehu/internal/access"
	"kehu/internal/i18n"
)

// navItem is one entry of the left navigation.
type navItem struct {
	Key   string // identifies the item for the active marker
	Label string // catalogue key
	Href  string
	// Badge is a count shown beside the label (open tasks); 0 shows none.
	Badge int64
}

// navigation lists every built page with the permission it needs, in display
// order. Later issues append their pages here; unbuilt pages are never listed.
var navigation = []struct {
	item navItem
	perm access.Permission
}{
	{navItem{Key: "customers", Label: "nav.customers", Href: "/customers"}, access.CustomerRead},
	{navItem{Key: "tasks", Label: "nav.tasks", Href: "/tasks"}, access.CustomerRead},
	{navItem{Key: "leads", Label: "nav.leads", Href: "/leads"}, access.CustomerRead},
	{navItem{Key: "orgs", Label: "nav.orgs", Href: "/orgs"}, access.OrgRead},
	{navItem{Key: "access", Label: "nav.access", Href: "/access"}, access.CustomerRead},
	{navItem{Key: "privacy", Label: "nav.privacy", Href: "/privacy"}, access.PrivacyManage},
	{navItem{Key: "compliance", Label: "nav.compliance", Href: "/compliance"}, access.PrivacyManage},
	{navItem{Key: "dictionary", Label: "nav.dictionary", Href: "/dictionary"}, access.CustomerRead},
	{navItem{Key: "data-quality", Label: "nav.data_quality", Href: "/data-quality"}, access.QualityRead},
	{navItem{Key: "levels", Label: "nav.levels", Href: "/levels"}, access.LevelManage},
	{navItem{Key: "tags", Label: "nav.tags", Href: "/tags"}, access.TagManage},
	{navItem{Key: "templates", Label: "nav.templates", Href: "/templates"}, access.MarketingWrite},
	{navItem{Key: "outbox", Label: "nav.outbox", Href: "/outbox"}, access.OutboxMonitor},
	{navItem{Key: "contact-policy", Label: "nav.contact_policy", Href: "/contact-policy"}, access.CustomerRead},
	{navItem{Key: "segments", Label: "nav.segments", Href: "/segments"}, access.CustomerRead},
	{navItem{Key: "journeys", Label: "nav.journeys", Href: "/journeys"}, access.MarketingWrite},
	// 营销活动 for makers and for checkers: one entry per key is shown.
	{navItem{Key: "campaigns", Label: "nav.campaigns", Href: "/campaigns"}, access.CampaignManage},
	{navItem{Key: "campaigns", Label: "nav.campaigns", Href: "/campaigns"}, access.CampaignApprove},
	{navItem{Key: "duplicates", Label: "nav.duplicates", Href: "/duplicates"}, access.CustomerMerge},
	{navItem{Key: "imports", Label: "nav.imports", Href: "/imports"}, access.DataImport},
	{navItem{Key: "audit", Label: "nav.audit", Href: "/audit"}, access.AuditRead},
	{navItem{Key: "security", Label: "nav.security", Href: "/security"}, ""},
}

// navFor returns the items role may use, so nobody sees a link that ends in
// "not permitted"; a page listed under two permissions shows once.
func navFor(role string) []navItem {
	var out []navItem
	for _, n := range navigation {
		if slices.ContainsFunc(out, func(o navItem) bool { return o.Key == n.item.Key }) {
			continue
		}
		if n.perm == "" || access.Can(role, n.perm) {
			out = append(out, n.item)
		}
	}
	return out
}

// userView is the signed-in user as the top bar shows them.
type userView struct {
	Name    string
	Role    string // role key; the template translates it
	OrgName string
}

// userView looks up the display name and organisation of the actor. A lookup
// failure degrades to the username rather than failing the page.
func (s *server) userView(r *http.Request) *userView {
	st := stateOf(r)
	u := &userView{Name: st.actor.Username, Role: st.actor.Role}
	if me, err := s.Auth.Me(r.Context()); err == nil && me.DisplayName != "" {
		u.Name = me.DisplayName
	}
	if o, err := s.Orgs.Get(r.Context(), st.actor.OrgID); err == nil {
		u.OrgName = o.Name
		if st.lang == i18n.English && o.NameEN != "" {
			u.OrgName = o.NameEN
		}
	}
	return u
}
