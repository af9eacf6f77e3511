package identity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kehu/internal/customer"
	"kehu/internal/vault"
)

// maxSuspects bounds the suspected-duplicate pairs one record queues.
const maxSuspects = 5

// work is a customer as the batch changes it: loaded (ID > 0) or created by
// an earlier record of the batch (negative reference).
type work struct {
	ref      int64
	existing bool
	orig     customer.Customer // as stored, for the audit diff
	cur      customer.Customer
	sealed   Sealed
	nameKey  string
	prov     map[string]Provenance // explicit provenance as it will be stored
	origin   *Link
	changed  bool // cur differs from orig (existing customers)
}

func (w *work) provenanceOf(field string) Provenance {
	if p, ok := w.prov[field]; ok {
		return p
	}
	if w.origin != nil {
		return Provenance{Field: field, SourceSystem: w.origin.SourceSystem, SetAt: w.origin.LinkedAt, JobID: w.origin.JobID}
	}
	return Provenance{Field: field, SourceSystem: SourceKehu, SetAt: w.orig.CreatedAt}
}

// resolver holds the state of one batch: every customer it may touch,
// indexed the ways records match, and the plan it builds.
type resolver struct {
	b        Batch
	rules    Rules
	links    map[string]*Link // by source id, this batch's source system
	byID     map[int64]*work
	identity map[string]int64   // identityKey → customer ref
	mobiles  map[string][]int64 // mobile blind index → customer refs
	nextRef  int64
	done     int // records resolved before the current one
	plan     Plan
	outcomes []Outcome
	// provDirty marks explicit provenance rows to write, by customer and field.
	provDirty map[int64]map[string]bool
}

func newResolver(b Batch, rules Rules, links map[string]*Link, existing map[int64]*Existing) *resolver {
	// Sized for the batch: a large load's batches are tens of thousands of
	// records, and growing these maps and slices record by record was a
	// tenth of the resolver's time.
	n := len(b.Records)
	r := &resolver{b: b, rules: rules, links: links, byID: make(map[int64]*work, n+len(existing)),
		identity: make(map[string]int64, n+len(existing)), mobiles: make(map[string][]int64, n+len(existing)),
		provDirty: map[int64]map[string]bool{}, plan: Plan{IDs: map[int64]int64{}}, outcomes: make([]Outcome, 0, n)}
	ids := make([]int64, 0, len(existing))
	for id := range existing {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic candidate order
	for _, id := range ids {
		e := existing[id]
		if e.MergedInto != 0 {
			continue // a tombstone is reached through its survivor only
		}
		prov := map[string]Provenance{}
		for k, v := range e.Provenance {
			prov[k] = v
		}
		w := &work{ref: id, existing: true, orig: e.Customer, cur: e.Customer, sealed: e.Sealed, prov: prov, origin: e.Origin}
		r.index(w)
	}
	return r
}

// index adds w to the lookup maps.
func (r *resolver) index(w *work) {
	r.byID[w.ref] = w
	if w.sealed.IDNumberIndex != "" {
		r.identity[identityKey(w.cur.IDType, w.sealed.IDNumberIndex)] = w.ref
	}
	if w.sealed.MobileIndex != "" {
		r.mobiles[w.sealed.MobileIndex] = append(r.mobiles[w.sealed.MobileIndex], w.ref)
	}
}

// follow returns the customer a reference resolves to, following merges
// (existing holds the survivors the store loaded).
func (r *resolver) follow(id int64, existing map[int64]*Existing) int64 {
	for range 8 {
		e, ok := existing[id]
		if !ok || e.MergedInto == 0 {
			return id
		}
		id = e.MergedInto
	}
	return id
}

// run resolves every record in order.
func (r *resolver) run(existing map[int64]*Existing) {
	for i := range r.b.Records {
		r.done = i
		r.outcomes = append(r.outcomes, r.one(&r.b.Records[i], existing))
	}
	r.finish()
}

// one resolves one record.
func (r *resolver) one(in *Incoming, existing map[int64]*Existing) Outcome {
	out := Outcome{Line: in.Line}
	reject := func(col, reason string) Outcome {
		out.Status, out.Column, out.Reason = OutcomeRejected, col, reason
		return out
	}
	link := r.links[in.SourceID]
	if in.SourceID == "" {
		link = nil
	}
	var target *work
	matched := ""
	if link != nil {
		if link.Prints == in.Prints {
			// The source sends what it sent last time: nothing to observe.
			out.Status, out.CustomerID = OutcomeUnchanged, link.CustomerID
			return out
		}
		id := r.follow(link.CustomerID, existing)
		target = r.byID[id]
		if target == nil {
			return reject("source_id", "is linked to a customer that no longer exists")
		}
		if in.Sealed.IDNumberIndex != "" {
			if other, ok := r.identity[identityKey(in.Customer.IDType, in.Sealed.IDNumberIndex)]; ok && other != target.ref {
				return reject("id_number", fmt.Sprintf("%s belongs to another customer (%s), while this source record "+
					"is linked to customer %s: resolve the conflict in the source system",
					vault.MaskIDNumber(in.Customer.IDNumber), refText(other), refText(target.ref)))
			}
		}
	} else {
		target, matched = r.match(in)
	}
	if target == nil {
		return r.create(in)
	}
	if target.existing && r.b.InScope != nil && !r.b.InScope(target.cur.OrgID, target.cur.OwnerID) {
		return reject("id_number", "matches a customer outside your data scope; ask their branch to import it")
	}
	if target.cur.Type != in.Customer.Type {
		return reject("type", fmt.Sprintf("is %s, but the matching customer %s is %s", in.Customer.Type,
			refText(target.ref), target.cur.Type))
	}
	if target.cur.Status == customer.StatusErased {
		return reject("", "the matching customer was erased on a data-subject request and is not re-imported")
	}
	observed := in.Provided
	if link != nil {
		observed = changedFields(link.Prints, in.Prints, in.Provided)
	}
	changed, col, problem := r.survive(target, in, observed)
	if problem != "" {
		return reject(col, problem)
	}
	out.CustomerID = target.ref
	out.Status = OutcomeUnchanged
	if changed {
		out.Status = OutcomeUpdated
	}
	if link == nil {
		out.Merged = true
		l := &Link{SourceSystem: r.b.SourceSystem, SourceID: in.SourceID, CustomerID: target.ref, MatchedBy: matched,
			JobID: r.b.JobID, Line: in.Line, Prints: in.Prints, LinkedAt: in.AsOf}
		if in.SourceID != "" {
			r.links[in.SourceID] = l
			r.plan.NewLinks = append(r.plan.NewLinks, *l)
		}
	} else {
		link.Prints, link.LinkedAt = in.Prints, in.AsOf
		r.plan.LinkPrints = append(r.plan.LinkPrints, *link)
	}
	return out
}

// match finds the customer an unlinked record is about: the same identity
// document, else (individuals) the same name, mobile and birth date.
func (r *resolver) match(in *Incoming) (*work, string) {
	if in.Sealed.IDNumberIndex != "" {
		if id, ok := r.identity[identityKey(in.Customer.IDType, in.Sealed.IDNumberIndex)]; ok {
			return r.byID[id], MatchIDNumber
		}
	}
	c := in.Customer
	if c.Type != customer.Individual || in.Sealed.MobileIndex == "" || c.BirthDate.IsZero() {
		return nil, ""
	}
	for _, id := range r.mobiles[in.Sealed.MobileIndex] {
		w := r.byID[id]
		if w != nil && w.cur.Type == customer.Individual && w.cur.Name == c.Name && w.cur.BirthDate == c.BirthDate {
			return w, MatchNameMobileBirth
		}
	}
	return nil, ""
}

// create plans a new customer for in, queuing the near misses.
func (r *resolver) create(in *Incoming) Outcome {
	r.nextRef--
	c := in.Customer
	c.ID = r.nextRef
	c.Status = customer.StatusActive
	c.Level = customer.LevelStandard
	c.CreatedAt, c.UpdatedAt = r.b.Now, r.b.Now
	c.RegionCode = regionOf(c)
	w := &work{ref: r.nextRef, cur: c, orig: c, sealed: in.Sealed, nameKey: in.NameKey, prov: map[string]Provenance{}}
	l := &Link{SourceSystem: r.b.SourceSystem, SourceID: in.SourceID, CustomerID: w.ref, Origin: true,
		MatchedBy: MatchCreated, JobID: r.b.JobID, Line: in.Line, Prints: in.Prints, LinkedAt: in.AsOf}
	w.origin = l
	suspects := r.suspects(in)
	r.index(w)
	if r.plan.Creates == nil {
		// The first new customer of the batch: room for every record left,
		// since a batch that creates one usually creates the rest too (an
		// initial load), and a Create is too large to copy while growing.
		left := len(r.b.Records) - r.done
		r.plan.Creates = make([]Create, 0, left)
		r.plan.NewLinks = slices.Grow(r.plan.NewLinks, left)
	}
	r.plan.Creates = append(r.plan.Creates, Create{Ref: w.ref, Line: in.Line, Customer: c, Sealed: in.Sealed,
		NameKey: in.NameKey, JobID: r.b.JobID})
	if in.SourceID != "" {
		r.links[in.SourceID] = l
		r.plan.NewLinks = append(r.plan.NewLinks, *l)
	}
	for _, s := range suspects {
		s.OtherID = w.ref
		r.plan.Duplicates = append(r.plan.Duplicates, s)
	}
	return Outcome{Line: in.Line, Status: OutcomeCreated, CustomerID: w.ref, Suspected: len(suspects)}
}

// suspects returns the customers a new individual nearly matches: same name
// and mobile with another birth date, or same mobile and birth date under
// another name.
func (r *resolver) suspects(in *Incoming) []Duplicate {
	c := in.Customer
	if c.Type != customer.Individual || in.Sealed.MobileIndex == "" {
		return nil
	}
	var out []Duplicate
	for _, id := range r.mobiles[in.Sealed.MobileIndex] {
		w := r.byID[id]
		if w == nil || w.cur.Type != customer.Individual || len(out) == maxSuspects {
			continue
		}
		switch {
		case w.cur.Name == c.Name && w.cur.BirthDate != c.BirthDate:
			out = append(out, Duplicate{CustomerID: id, Rule: DupNameMobile, Score: 80, Evidence: "name,mobile", JobID: r.b.JobID})
		case w.cur.Name != c.Name && !c.BirthDate.IsZero() && w.cur.BirthDate == c.BirthDate:
			out = append(out, Duplicate{CustomerID: id, Rule: DupMobileBirth, Score: 60, Evidence: "mobile,birth_date", JobID: r.b.JobID})
		}
	}
	return out
}

// changedFields returns the provided fields whose fingerprint differs from
// the source's previous record: the new observations.
func changedFields(before, after string, provided map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, f := range Fields {
		if provided[f] && printAt(before, f) != printAt(after, f) {
			out[f] = true
		}
	}
	return out
}

// refText names a customer in a reason: its id, or "in this file".
func refText(ref int64) string {
	if ref < 0 {
		return "created earlier in this file"
	}
	return "#" + strconv.FormatInt(ref, 10)
}

// finish turns the changed working copies into updates and provenance rows.
func (r *resolver) finish() {
	refs := make([]int64, 0, len(r.byID))
	for ref := range r.byID {
		refs = append(refs, ref)
	}
	slices.Sort(refs)
	for _, ref := range refs {
		w := r.byID[ref]
		if w.existing && w.changed {
			w.cur.UpdatedAt = r.b.Now
			r.plan.Updates = append(r.plan.Updates, Update{Old: w.orig, New: w.cur, Sealed: w.sealed, NameKey: w.nameKey,
				Reason: "import job " + strconv.FormatInt(r.b.JobID, 10) + " from " + r.b.SourceSystem})
		}
		fields := make([]string, 0, len(r.provDirty[ref]))
		for f := range r.provDirty[ref] {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		for _, f := range fields {
			r.plan.Provenance = append(r.plan.Provenance, ProvenanceRow{CustomerID: ref, Provenance: w.prov[f]})
		}
	}
	// Creates keep their values on the row itself; only updates of a
	// created customer by a later record of the batch change them.
	for i := range r.plan.Creates {
		w := r.byID[r.plan.Creates[i].Ref]
		r.plan.Creates[i].Customer, r.plan.Creates[i].Sealed, r.plan.Creates[i].NameKey = w.cur, w.sealed, w.nameKey
	}
}

// provenanceSet records a new provenance for a field of w.
func (r *resolver) provenanceSet(w *work, p Provenance) {
	w.prov[p.Field] = p
	if r.provDirty[w.ref] == nil {
		r.provDirty[w.ref] = map[string]bool{}
	}
	r.provDirty[w.ref][p.Field] = true
}

// sortedFields returns the keys of a field set in Fields order.
func sortedFields(set map[string]bool) []string {
	var out []string
	for _, f := range Fields {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

// describe lists fields for messages.
func describe(fields []string) string { return strings.Join(fields, ", ") }
