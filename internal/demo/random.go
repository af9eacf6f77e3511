package demo

import (
	"math"
	"math/rand/v2"
)

// Streams keep the random sequences of different purposes apart, so adding
// a draw to one (say, users) never shifts another (customers).
const (
	streamCustomer uint64 = 0x9e3779b97f4a7c15
	streamTrait    uint64 = 0xbf58476d1ce4e5b9
	streamHouse    uint64 = 0x94d049bb133111eb
	streamUser     uint64 = 0xd6e8feb86659fd93
	streamCompany  uint64 = 0xa0761d6478bd642f
)

// mix is the splitmix64 finaliser: a cheap, well-spread hash of a 64-bit
// value, used for the per-index traits that other customers must be able
// to recompute without replaying a whole random stream.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashOf hashes (seed, stream, index) to 64 bits.
func hashOf(seed int64, stream uint64, index int) uint64 {
	return mix(mix(uint64(seed)^stream) ^ uint64(index))
}

// rng is a reusable deterministic random source; reseed it per customer.
type rng struct {
	pcg *rand.PCG
	*rand.Rand
}

func newRNG() *rng {
	p := rand.NewPCG(0, 0)
	return &rng{pcg: p, Rand: rand.New(p)}
}

// reseed restarts the stream for (seed, stream, index).
func (r *rng) reseed(seed int64, stream uint64, index int) {
	r.pcg.Seed(hashOf(seed, stream, index), mix(uint64(index)^stream))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.Float64() < p }

// between returns a uniform int in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// logNormal returns exp(N(ln median, sigma)): the long-tailed shape of
// incomes, balances and payment amounts.
func (r *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// poisson draws a Poisson count with mean lambda (Knuth's method; the
// means used here are small).
func (r *rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// pickString returns a uniform element of s.
func pickString(r *rng, s []string) string { return s[r.IntN(len(s))] }

// weighted is a table for drawing an index with given relative weights.
type weighted struct {
	cum   []float64
	total float64
}

func newWeighted(weights []float64) weighted {
	w := weighted{cum: make([]float64, len(weights))}
	for i, x := range weights {
		w.total += x
		w.cum[i] = w.total
	}
	return w
}

// pick returns an index drawn by weight from the uniform u in [0, 1).
func (w weighted) pick(u float64) int {
	x := u * w.total
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if w.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// unit turns 53 bits of a hash into a float in [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
