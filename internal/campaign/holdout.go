package campaign

// mix is splitmix64's finaliser: a bijection of 64-bit words whose output
// bits each depend on every input bit, so consecutive customer ids land in
// the control group independently.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// InControl reports whether customer id is held out of a campaign with
// seed and a control group of pct percent. It is a fixed function of (seed,
// id) — no state, no random source — so a resumed launch, a second run of a
// recurring campaign and the results all put the customer in the same
// group; each campaign's seed draws its own group. The customer's point in
// [0, 10000) is compared with pct × 100.
func InControl(seed int64, id int64, pct int) bool {
	if pct <= 0 {
		return false
	}
	return mix(uint64(seed)^mix(uint64(id)))%10000 < uint64(pct)*100
}
