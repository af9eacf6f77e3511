package region

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"sync"
)

var (
	//go:embed data/provinces.csv
	provincesCSV []byte
	//go:embed data/cities.csv
	citiesCSV []byte
	//go:embed data/areas.csv
	areasCSV []byte
)

// table is the parsed data, built once on first use and never changed.
type table struct {
	byCode    map[string]Region
	provinces []Region
	cities    map[string][]Region // by two-digit province prefix
	counties  map[string][]Region // by four-digit city prefix, functional zones left out
}

var loaded = sync.OnceValue(func() *table {
	t, err := parse()
	if err != nil {
		panic(fmt.Sprintf("region: embedded data is corrupt: %v", err)) // caught by the package tests
	}
	return t
})

// parse reads the three CSV files (code,name[,parent codes]); the files are
// in code order, so the lists come out sorted.
func parse() (*table, error) {
	t := &table{byCode: map[string]Region{}, cities: map[string][]Region{}, counties: map[string][]Region{}}
	err := eachRecord(provincesCSV, 2, func(code, name string) {
		r := Region{Code: code + "0000", Name: name, Level: Province}
		t.byCode[r.Code] = r
		t.provinces = append(t.provinces, r)
	})
	if err == nil {
		err = eachRecord(citiesCSV, 4, func(code, name string) {
			r := Region{Code: code + "00", Name: name, Level: City,
				Grouping: name == "市辖区" || name == "县" || name == "省直辖县级行政区划" || name == "自治区直辖县级行政区划"}
			t.byCode[r.Code] = r
			t.cities[code[:2]] = append(t.cities[code[:2]], r)
		})
	}
	if err == nil {
		err = eachRecord(areasCSV, 6, func(code, name string) {
			r := Region{Code: code, Name: name, Level: County, Functional: code[4] == '7'}
			t.byCode[r.Code] = r
			if !r.Functional {
				t.counties[code[:4]] = append(t.counties[code[:4]], r)
			}
		})
	}
	return t, err
}

// eachRecord calls fn with the code and name of every data row, checking the
// code has width digits.
func eachRecord(data []byte, width int, fn func(code, name string)) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return err
	}
	for i, row := range rows[1:] {
		if len(row) < 2 || len(row[0]) != width || row[1] == "" {
			return fmt.Errorf("line %d: %q", i+2, row)
		}
		for _, c := range row[0] {
			if c < '0' || c > '9' {
				return fmt.Errorf("line %d: code %q", i+2, row[0])
			}
		}
		fn(row[0], row[1])
	}
	return nil
}
