package demo

import (
	"kehu/internal/region"
)

// geo caches the region lookups customer generation makes millions of
// times: county lists and full names. It is built once and read-only, so
// generators on several goroutines share it.
type geo struct {
	all        []string            // every county-level code
	byProvince map[string][]string // two-digit province prefix -> county codes
	byCity     map[string][]string // four-digit city prefix -> county codes
	fullName   map[string]string   // county code -> 浙江省杭州市西湖区
}

func newGeo() *geo {
	g := &geo{byProvince: map[string][]string{}, byCity: map[string][]string{}, fullName: map[string]string{}}
	for _, p := range region.Provinces() {
		for _, c := range region.CountiesOfProvince(p.Code) {
			g.all = append(g.all, c.Code)
			g.byProvince[c.Code[:2]] = append(g.byProvince[c.Code[:2]], c.Code)
			g.byCity[c.Code[:4]] = append(g.byCity[c.Code[:4]], c.Code)
			g.fullName[c.Code] = region.FullName(c.Code)
		}
	}
	return g
}

// idRegion draws the region of an ID number for a customer of an outlet:
// mostly born locally, some from elsewhere in the province, some migrants
// from anywhere in China.
func (g *geo) idRegion(r *rng, county string) string {
	switch u := r.Float64(); {
	case u < 0.62:
		return county
	case u < 0.75:
		return pickString(r, g.byCity[county[:4]])
	case u < 0.85:
		return pickString(r, g.byProvince[county[:2]])
	default:
		return pickString(r, g.all)
	}
}

// homeRegion draws where a customer of an outlet lives: its county or a
// neighbouring one of the same city.
func (g *geo) homeRegion(r *rng, county string) string {
	if r.chance(0.7) {
		return county
	}
	return pickString(r, g.byCity[county[:4]])
}
