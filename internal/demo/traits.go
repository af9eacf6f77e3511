package demo

// trait is what other customers need to know about customer i without
// generating it: its type, outlet, sex and birth year. Traits are pure
// functions of (seed, i), so a corporate can find its legal representative
// among earlier customers, and spouses agree on their outlet, from any
// goroutine.
type trait struct {
	corporate bool
	male      bool
	outlet    int
	age       int
	// household links: spouse index (or -1), parents (or -1)
	spouse         int
	father, mother int
	inHousehold    bool
}

// Households are blocks of four consecutive customers: slots 0 and 1 may be
// spouses, slot 2 their adult child, slot 3 is either a single person or a
// company (a fifth of the time, so 5% of customers are corporate).
const (
	marriedShare   = 0.35
	childShare     = 0.40
	corporateShare = 0.20 // of slot 3
)

// ageBands is the age profile of a retail bank's customers.
var ageBands = []struct {
	lo, hi int
	weight float64
}{{18, 25, 10}, {26, 35, 22}, {36, 45, 22}, {46, 55, 20}, {56, 65, 14}, {66, 85, 12}}

var ageTable = func() weighted {
	w := make([]float64, len(ageBands))
	for i, b := range ageBands {
		w[i] = b.weight
	}
	return newWeighted(w)
}()

func ageFrom(h uint64) int {
	b := ageBands[ageTable.pick(unit(h))]
	return b.lo + int(mix(h)%uint64(b.hi-b.lo+1))
}

// trait computes the traits of customer i of a bank with outlets outlets.
func traitOf(seed int64, outlets, i int) trait {
	own := hashOf(seed, streamTrait, i)
	t := trait{spouse: -1, father: -1, mother: -1, outlet: int(mix(own^1) % uint64(outlets)),
		male: own&1 == 1, age: ageFrom(mix(own ^ 2))}
	slot, base := i%4, i-i%4
	house := hashOf(seed, streamHouse, i/4)
	married := unit(house) < marriedShare
	parentAge := 28 + int(mix(house^2)%45)
	childAge := parentAge - 22 - int(mix(house^4)%10)
	hasChild := married && unit(mix(house)) < childShare && childAge >= 18
	houseOutlet := int(mix(house^1) % uint64(outlets))
	switch {
	case slot == 3:
		t.corporate = unit(mix(own^3)) < corporateShare
	case married && slot == 0:
		t.outlet, t.male, t.age, t.spouse, t.inHousehold = houseOutlet, house&1 == 1, parentAge, base+1, true
	case married && slot == 1:
		t.outlet, t.male, t.age, t.spouse, t.inHousehold = houseOutlet, house&1 == 0, parentAge+int(mix(house^3)%7)-3, base, true
	case hasChild && slot == 2:
		t.outlet, t.age, t.inHousehold = houseOutlet, childAge, true
		t.father, t.mother = base, base+1
		if house&1 == 0 {
			t.father, t.mother = base+1, base
		}
	}
	if t.age < 18 {
		t.age = 18
	}
	return t
}
