package importer

import (
	"context"
	"hash/maphash"
	"slices"

	"kehu/internal/identity"
)

// A customers job of more rows than the bank has customers, into a bank
// small enough to hold its keys in memory — above all the initial load of a
// new bank, whose store is empty — can know
// every key identity resolution could find in the store: it reads them
// once at the start (store KnownKeys) and adds those of every batch it
// commits. Resolution then looks up only the source links it may have seen
// and loads by id the customers that may hold a document or mobile; a
// record whose keys it never saw is certainly new, and its batch skips the
// IN-list lookups through random index pages that were a fifth of a
// million-row load's database time (docs/IMPORT.md "Known keys"). Such a
// job does not read the identity indexes, so a large load defers them too.
//
// That holds only while nobody else writes customers, so every batch first
// asks the store, inside its own transaction, whether anything was added,
// changed, merged or removed since this job's last commit (Untouched);
// after the first "yes" the job builds the identity indexes and looks every
// key up, as any other job does. PostgreSQL never knows its keys (its
// concurrent transactions commit ids out of order), so there every job
// looks up.
type initialLoad struct {
	seed          maphash.Seed
	links         map[uint64]struct{}
	ids, mobiles  holders
	mark, pending LoadMark
	// off: the job looks every key up from now on (someone else wrote, a
	// batch failed, or the sets are full).
	off bool
}

// maxInitialKeys bounds the keys an initial load remembers (about 50 bytes
// each across the three sets); past it the job looks every key up.
const maxInitialKeys = 20_000_000

// LoadMark is where the tables identity resolution reads stood after an
// initial load's last commit: their highest ids and the audit trail's.
// Valid is false where the store cannot tell (PostgreSQL).
type LoadMark struct {
	Customers, Sources, Audit int64
	Valid                     bool
}

// KnownKey is one key read from the store: a customer's identity document
// and mobile blind indexes, or a source link's id.
type KnownKey struct {
	Customer                int64
	IDType, IDIndex, Mobile string
	SourceID                string
}

// LoadMarker is the part of the store an initial load asks (Store).
type LoadMarker interface {
	// KnownKeys hands fn every key in the store and returns the mark they
	// were read at; an invalid mark when the store holds more than limit
	// customers or cannot tell.
	KnownKeys(ctx context.Context, sourceSystem string, limit int64, fn func(KnownKey)) (LoadMark, error)
	// MarkLoad returns the current mark, in the transaction of ctx.
	MarkLoad(ctx context.Context) (LoadMark, error)
	// Untouched reports, in the transaction of ctx, whether nobody has
	// added a customer or source link, or recorded a change of one, since m.
	Untouched(ctx context.Context, m LoadMark) (bool, error)
}

// startInitialLoad returns the known keys of a customers job of about
// expect rows from sourceSystem, or nil when the store holds as many
// customers as the file has rows, or more than maxStoredKnown, or cannot
// tell.
func startInitialLoad(ctx context.Context, m LoadMarker, sourceSystem string, expect int64) (*initialLoad, error) {
	size := int(min(max(expect, 0), maxInitialKeys))
	l := &initialLoad{seed: maphash.MakeSeed(), links: make(map[uint64]struct{}, size),
		ids: newHolders(size), mobiles: newHolders(size)}
	// A file no larger than the bank — a re-run, a daily delta — finds most
	// of its keys stored and would look them up anyway: reading the whole
	// bank's keys first would only add to it.
	mark, err := m.KnownKeys(ctx, sourceSystem, min(maxStoredKnown, expect-1), func(k KnownKey) {
		if k.SourceID != "" {
			l.links[l.key(k.SourceID)] = struct{}{}
		}
		if k.IDIndex != "" {
			l.ids.add(l.key(k.IDType, k.IDIndex), k.Customer)
		}
		if k.Mobile != "" {
			l.mobiles.add(l.key(k.Mobile), k.Customer)
		}
	})
	if err != nil || !mark.Valid {
		return nil, err
	}
	l.mark = mark
	return l, nil
}

// maxStoredKnown is the most customers a job reads the keys of at its
// start (a few seconds and a few hundred MB); a larger bank looks up.
const maxStoredKnown = 5_000_000

func (l *initialLoad) key(parts ...string) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	for _, p := range parts {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// A hash shared by two keys only makes a new key look known: it is looked
// up, or its holders loaded and matched by what they really hold, never
// wrongly skipped.
func (l *initialLoad) MayHaveLink(sourceID string) bool { _, ok := l.links[l.key(sourceID)]; return ok }

func (l *initialLoad) IdentityHolders(k identity.IdentityKey) []int64 {
	return l.ids.get(l.key(k.IDType, k.Index))
}

func (l *initialLoad) MobileHolders(index string) []int64 { return l.mobiles.get(l.key(index)) }

// holders maps a key's hash to the customers stored with it: one, nearly
// always (an identity document is unique; a mobile shared by a family or
// two keys with one hash go to more).
type holders struct {
	one  map[uint64]int64
	more map[uint64][]int64
}

func newHolders(size int) holders {
	return holders{one: make(map[uint64]int64, size), more: map[uint64][]int64{}}
}

func (h holders) add(key uint64, id int64) {
	cur, ok := h.one[key]
	switch {
	case !ok:
		h.one[key] = id
	case cur != id && !slices.Contains(h.more[key], id):
		h.more[key] = append(h.more[key], id)
	}
}

func (h holders) get(key uint64) []int64 {
	cur, ok := h.one[key]
	if !ok {
		return nil
	}
	return append([]int64{cur}, h.more[key]...)
}

// known returns what a batch may rely on: the load's sets while nobody
// else has written since its last commit, else nil (look everything up)
// — and from then on always nil.
func (e *Engine) known(ctx context.Context, st *runState) (identity.Known, error) {
	l := st.initial
	if l == nil {
		return nil, nil
	}
	if !l.off {
		ok, err := e.store.Untouched(ctx, l.mark)
		if err != nil || ok {
			return l, err
		}
		e.log.InfoContext(ctx, "import: the bank changed during an initial load; every key is looked up from here",
			"job", st.job.ID)
		l.off = true
		if err := e.store.AppendOnlyCache(ctx, false); err != nil {
			return nil, err
		}
	}
	// The lookups need the identity indexes the load deferred: built in
	// this batch's transaction (a no-op once built), so a batch that rolls
	// back leaves them to the next.
	return nil, e.store.BuildIdentityIndexes(ctx)
}

// marked notes, at the end of a batch's transaction, where the tables stand.
func (e *Engine) marked(ctx context.Context, st *runState) error {
	if st.initial == nil || st.initial.off {
		return nil
	}
	m, err := e.store.MarkLoad(ctx)
	st.initial.pending = m
	return err
}

// committed adds a committed batch's keys, with the customer each record
// resolved to (0: rejected), to the sets and moves the mark.
func (l *initialLoad) committed(recs []identity.Incoming, customers []int64) {
	if l.off {
		return
	}
	l.mark = l.pending
	if len(l.links)+len(l.ids.one)+len(l.mobiles.one) > 3*maxInitialKeys {
		l.off = true // the next batch builds the identity indexes and looks up
		return
	}
	for i, r := range recs {
		if r.SourceID != "" {
			l.links[l.key(r.SourceID)] = struct{}{}
		}
		id := customers[i]
		if id == 0 {
			continue
		}
		if r.Sealed.IDNumberIndex != "" {
			l.ids.add(l.key(r.Customer.IDType, r.Sealed.IDNumberIndex), id)
		}
		if r.Sealed.MobileIndex != "" {
			l.mobiles.add(l.key(r.Sealed.MobileIndex), id)
		}
	}
}
