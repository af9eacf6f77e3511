package demo

import (
	"fmt"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/org"
	"kehu/internal/region"
)

// geography lists the branches the demo bank may open, most important
// first: each city with a weight that sets its share of the outlets.
// Municipalities (Beijing, Shanghai, Tianjin, Chongqing) have their outlets
// directly under the municipal branch, as Chinese banks organise them.
var geography = []struct {
	code, province string
	municipal      bool
	cities         []cityPlan
}{
	{"BJ", "110000", true, []cityPlan{{"BJ", "110100", 10}}},
	{"SH", "310000", true, []cityPlan{{"SH", "310100", 10}}},
	{"ZJ", "330000", false, []cityPlan{{"HZ", "330100", 8}, {"NB", "330200", 5}, {"WZ", "330300", 4}, {"SX", "330600", 2}, {"JH", "330700", 2}}},
	{"GD", "440000", false, []cityPlan{{"GZ", "440100", 8}, {"SZ", "440300", 8}, {"FS", "440600", 3}, {"ZH", "440400", 2}}},
	{"JS", "320000", false, []cityPlan{{"NJ", "320100", 7}, {"SUZ", "320500", 6}, {"WX", "320200", 3}}},
	{"SC", "510000", false, []cityPlan{{"CD", "510100", 7}, {"MY", "510700", 1}}},
	{"HB", "420000", false, []cityPlan{{"WH", "420100", 6}, {"YC", "420500", 1}}},
	{"SD", "370000", false, []cityPlan{{"QD", "370200", 5}, {"JN", "370100", 4}, {"YT", "370600", 2}}},
	{"FJ", "350000", false, []cityPlan{{"XM", "350200", 4}, {"FZ", "350100", 3}, {"QZ", "350500", 2}}},
	{"TJ", "120000", true, []cityPlan{{"TJ", "120100", 4}}},
	{"CQ", "500000", true, []cityPlan{{"CQ", "500100", 4}}},
	{"HA", "410000", false, []cityPlan{{"ZZ", "410100", 4}, {"LY", "410300", 1}}},
	{"HN", "430000", false, []cityPlan{{"CS", "430100", 4}}},
	{"SN", "610000", false, []cityPlan{{"XA", "610100", 4}}},
	{"AH", "340000", false, []cityPlan{{"HF", "340100", 3}}},
	{"LN", "210000", false, []cityPlan{{"DL", "210200", 3}, {"SY", "210100", 3}}},
}

type cityPlan struct {
	code, region string
	weight       float64
}

// customersPerOutlet sets how many outlets a bank of a given size has.
const (
	customersPerOutlet = 3000
	minOutlets         = 6
	customersPerRM     = 450
)

// orgNode is one organisation of the plan, with its staff.
type orgNode struct {
	org.Org
	cityName string  // short city name for branch and payee names
	county   string  // outlets: GB/T 2260 code of the county they serve
	users    []user  // staff homed here
	rms      []int64 // outlets: ids of the relationship managers
}

// user is one planned staff member.
type user struct {
	id                          int64
	username, displayName, role string
	orgID                       int64
}

// bank is the planned organisation: orgs in id order (parents first),
// outlets for customers to be homed at, users and products.
type bank struct {
	orgs     []*orgNode
	outlets  []*orgNode
	users    []user
	products []product
	now      time.Time
	// corporates are the indexes of the companies of each outlet, in
	// order, so employees can find an employer among earlier customers.
	corporates [][]int
	// logins are the usernames shown in Result.Logins.
	shown []string
}

// planBank lays out the organisation tree and its staff for a bank of
// customers customers. It depends only on its arguments.
func planBank(seed int64, customers int, now time.Time) *bank {
	b := &bank{now: now.UTC().Truncate(time.Second), products: catalogue()}
	outlets := max(minOutlets, (customers+customersPerOutlet-1)/customersPerOutlet)
	counts := allocateOutlets(outlets)
	perOutlet := customers / outlets
	rmsPerOutlet := min(12, max(2, (perOutlet+customersPerRM-1)/customersPerRM))
	names := newRNG()
	names.reseed(seed, streamUser, 0)
	ho := b.add(nil, "HO", "总行", "Head Office", org.HeadOffice, "110000", "北京")
	b.staff(names, ho, "hq", access.Admin, access.MarketingOperator, access.ComplianceAuditor, access.CallCenterAgent, access.CallCenterAgent)
	b.users[0].username = "admin"
	firstProvince, firstCity := true, true
	for pi, p := range geography {
		if sum(counts[pi]) == 0 {
			continue
		}
		prov, _ := region.Lookup(p.province)
		name := prov.Name + "分行"
		if p.municipal {
			name = prov.ShortName() + "分行"
		}
		pb := b.add(ho, p.code, name, prov.ShortName()+" Branch", org.ProvinceBranch, p.province, prov.ShortName())
		b.staff(names, pb, strings.ToLower(p.code), access.BranchManager, access.MarketingOperator, access.ComplianceAuditor, access.CallCenterAgent)
		if firstProvince {
			b.show(pb)
			firstProvince = false
		}
		for ci, c := range p.cities {
			n := counts[pi][ci]
			if n == 0 {
				continue
			}
			parent, cityName := pb, prov.ShortName()
			if !p.municipal {
				city, _ := region.Lookup(c.region)
				cityName = city.ShortName()
				parent = b.add(pb, c.code, cityName+"分行", cityName+" Branch", org.CityBranch, c.region, cityName)
				b.staff(names, parent, strings.ToLower(c.code), access.BranchManager, access.MarketingOperator)
				if firstCity {
					b.show(parent)
					firstCity = false
				}
			}
			counties := region.Counties(c.region)
			for k := range n {
				county := counties[k%len(counties)]
				code := fmt.Sprintf("%s%02d", c.code, k+1)
				name := outletName(cityName, county, k/len(counties))
				o := b.add(parent, code, name, code+" Sub-branch", org.SubBranch, county.Code, cityName)
				o.county = county.Code
				roles := []string{access.BranchManager, access.Teller, access.Teller, access.LobbyManager}
				for range rmsPerOutlet {
					roles = append(roles, access.RelationshipMgr)
				}
				b.staff(names, o, strings.ToLower(code), roles...)
				b.outlets = append(b.outlets, o)
				if len(b.outlets) <= 3 {
					b.show(o)
				}
			}
		}
	}
	// The data-governance office and a source system's service account sit
	// at the head office too. They are planned last, with a name stream of
	// their own, so adding them kept every earlier user's id and name.
	names.reseed(seed, streamUser, 1)
	b.staff(names, ho, "hq", access.DataSteward, access.Integration)
	b.shown = append([]string{"admin", "hq_marketing", "hq_compliance", "hq_callcenter1", "hq_steward", "hq_integration"}, b.shown...)
	b.corporates = make([][]int, len(b.outlets))
	for i := range customers {
		if t := traitOf(seed, len(b.outlets), i); t.corporate {
			b.corporates[t.outlet] = append(b.corporates[t.outlet], i)
		}
	}
	return b
}

// outletName names an outlet after its city and county, as banks do
// (杭州西湖支行); a second outlet in the same county takes a road name.
func outletName(city string, county region.Region, round int) string {
	name := county.ShortName()
	if name == city || strings.HasPrefix(name, city) {
		name = county.Name
	}
	if round > 0 {
		name += roads[(round*7+len(county.Code))%len(roads)]
	}
	return city + name + "支行"
}

// add appends an organisation under parent; ids follow creation order.
func (b *bank) add(parent *orgNode, code, name, nameEN, level, regionCode, city string) *orgNode {
	id := int64(len(b.orgs) + 1)
	o := &orgNode{Org: org.Org{ID: id, Code: code, Name: name, NameEN: nameEN, Level: level,
		RegionCode: regionCode, City: city, CreatedAt: b.now}, cityName: city}
	o.Path = org.ChildPath("", id)
	if parent != nil {
		o.ParentID = &parent.ID
		o.Path = org.ChildPath(parent.Path, id)
	}
	b.orgs = append(b.orgs, o)
	return o
}

// staff adds users of the given roles to o, named prefix_role with a number
// where a role repeats (hz01_teller1, hz01_teller2, hz01_lobby).
func (b *bank) staff(r *rng, o *orgNode, prefix string, roles ...string) {
	total := map[string]int{}
	for _, role := range roles {
		total[role]++
	}
	seen := map[string]int{}
	for _, role := range roles {
		seen[role]++
		name := prefix + "_" + roleSuffix[role]
		if total[role] > 1 {
			name += fmt.Sprint(seen[role])
		}
		u := user{id: int64(len(b.users) + 1), username: name, displayName: personName(r, r.chance(0.5)), role: role, orgID: o.ID}
		b.users = append(b.users, u)
		o.users = append(o.users, u)
		if role == access.RelationshipMgr {
			o.rms = append(o.rms, u.id)
		}
	}
}

// roleSuffix is the readable part of demo usernames per role.
var roleSuffix = map[string]string{
	access.Admin: "admin", access.BranchManager: "manager", access.Teller: "teller", access.LobbyManager: "lobby",
	access.RelationshipMgr: "rm", access.CallCenterAgent: "callcenter", access.MarketingOperator: "marketing",
	access.ComplianceAuditor: "compliance", access.DataSteward: "steward", access.Integration: "integration",
}

// show marks the users of o for the printed table (at most two RMs each).
func (b *bank) show(o *orgNode) {
	for _, u := range o.users {
		if u.role == access.RelationshipMgr && !strings.HasSuffix(u.username, "_rm1") && !strings.HasSuffix(u.username, "_rm2") {
			continue
		}
		b.shown = append(b.shown, u.username)
	}
}

// logins returns the users to print, in plan order.
func (b *bank) logins(password string) []Login {
	byName := make(map[string]user, len(b.users))
	for _, u := range b.users {
		byName[u.username] = u
	}
	out := make([]Login, 0, len(b.shown))
	for _, name := range b.shown {
		u := byName[name]
		out = append(out, Login{Username: u.username, DisplayName: u.displayName, Role: u.role,
			OrgName: b.orgs[u.orgID-1].Name, Password: password})
	}
	return out
}

// allocateOutlets shares n outlets among the cities of geography by weight
// (largest remainder, earlier cities first on ties), so small banks open in
// the largest cities and large banks everywhere.
func allocateOutlets(n int) [][]int {
	counts := make([][]int, len(geography))
	type slot struct{ p, c int }
	var slots []slot
	var weights []float64
	total := 0.0
	for pi, p := range geography {
		counts[pi] = make([]int, len(p.cities))
		for ci, c := range p.cities {
			slots = append(slots, slot{pi, ci})
			weights = append(weights, c.weight)
			total += c.weight
		}
	}
	// D'Hondt: give each outlet to the city with the highest weight per
	// outlet it would then have.
	given := make([]int, len(slots))
	for range n {
		best := 0
		for i := range slots {
			if weights[i]/float64(given[i]+1) > weights[best]/float64(given[best]+1) {
				best = i
			}
		}
		given[best]++
	}
	for i, s := range slots {
		counts[s.p][s.c] = given[i]
	}
	return counts
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}
