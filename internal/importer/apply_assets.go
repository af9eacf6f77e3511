package importer

import (
	"context"
	"strconv"

	"kehu/internal/customer"
	"kehu/internal/identity"
)

// refKey identifies a customer reference in lookup maps.
func refKey(r CustomerRef) string {
	if r.SourceID != "" {
		return "s\x00" + r.SourceSystem + "\x00" + r.SourceID
	}
	return "i\x00" + r.IDType + "\x00" + r.IDIndex
}

// lookupCustomers resolves customer references (by the job's source ids or
// by identity document), merged customers to their survivor.
func (e *Engine) lookupCustomers(ctx context.Context, st *runState, refs []CustomerRef) (map[string]CustomerInfo, error) {
	ids := map[string][]string{}
	var docs []IdentityRef
	for _, r := range refs {
		if r.SourceID != "" {
			ids[r.SourceSystem] = append(ids[r.SourceSystem], r.SourceID)
		} else if r.IDIndex != "" {
			docs = append(docs, IdentityRef{r.IDType, r.IDIndex})
		}
	}
	out := map[string]CustomerInfo{}
	for system, list := range ids {
		bySource, err := e.store.CustomersBySource(ctx, system, list)
		if err != nil {
			return nil, err
		}
		for id, c := range bySource {
			out["s\x00"+system+"\x00"+id] = c
		}
	}
	byDoc, err := e.store.CustomersByIdentity(ctx, docs)
	if err != nil {
		return nil, err
	}
	for k, c := range byDoc {
		out["i\x00"+k.IDType+"\x00"+k.Index] = c
	}
	return out, nil
}

// customerFor checks a resolved reference: it must exist, lie in the
// actor's scope (outside it reads exactly like an unknown customer) and not
// be erased.
func (st *runState) customerFor(found map[string]CustomerInfo, r CustomerRef) (CustomerInfo, *result) {
	c, ok := found[refKey(r)]
	if !ok || !st.inScope(c.OrgID, c.OwnerID) {
		return c, &result{status: identity.OutcomeRejected, column: r.Column,
			reason: "no customer " + r.Display + " in your data scope: import the customers first"}
	}
	if c.Status == customer.StatusErased {
		return c, &result{status: identity.OutcomeRejected, column: r.Column,
			reason: "the customer was erased on a data-subject request; nothing is added to the record"}
	}
	return c, nil
}

func rejected(line int64, r *result) result {
	r.line = line
	return *r
}

func (e *Engine) applyAccounts(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	as := make([]AccountRow, len(rows))
	refs := make([]CustomerRef, len(rows))
	indexes := make([]string, len(rows))
	for i, p := range rows {
		as[i] = p.rec.(AccountRow)
		refs[i], indexes[i] = as[i].Customer, as[i].Index
	}
	found, err := e.lookupCustomers(ctx, st, refs)
	if err != nil {
		return applied{}, err
	}
	existing, err := e.store.AccountsByIndex(ctx, indexes)
	if err != nil {
		return applied{}, err
	}
	var res applied
	var creates []AccountWrite
	createdAt := map[string]int{}
	for _, a := range as {
		c, bad := st.customerFor(found, a.Customer)
		if bad != nil {
			res.results = append(res.results, rejected(a.Line, bad))
			continue
		}
		ex, ok := existing[a.Index]
		if ok && ex.CustomerID != c.ID {
			res.results = append(res.results, result{line: a.Line, status: identity.OutcomeRejected, column: "account_no",
				reason: a.Masked + " already belongs to another customer"})
			continue
		}
		next := ex
		if !ok {
			next = AccountInfo{Index: a.Index, CustomerID: c.ID, OrgID: c.OrgID, Status: "active"}
		}
		next.ProductID, next.Currency, next.OpenedOn = a.Product.ID, a.Currency, a.OpenedOn
		if a.HasBalance {
			next.Balance = a.Balance
		}
		if a.HasLimit {
			next.CreditLimit = a.CreditLimit
		}
		if a.HasStatus {
			next.Status = a.Status
		}
		if a.OrgID != 0 {
			next.OrgID = a.OrgID
		}
		if !a.MaturesOn.IsZero() {
			next.MaturesOn = a.MaturesOn
		}
		switch {
		case !ok:
			createdAt[a.Index] = len(res.results)
			creates = append(creates, AccountWrite{AccountInfo: next, Sealed: a.Sealed})
			res.results = append(res.results, result{line: a.Line, status: identity.OutcomeCreated})
		case next == ex:
			res.results = append(res.results, result{line: a.Line, status: identity.OutcomeUnchanged})
			continue
		default:
			if err := e.store.UpdateAccount(ctx, next); err != nil {
				return applied{}, err
			}
			res.results = append(res.results, result{line: a.Line, status: identity.OutcomeUpdated})
		}
		res.touched = append(res.touched, c.ID)
	}
	ids, err := e.store.InsertAccounts(ctx, creates)
	if err != nil {
		return applied{}, err
	}
	keys := make([]ImportKey, 0, len(creates))
	for _, a := range creates {
		keys = append(keys, ImportKey{Kind: KindAccounts, Source: st.job.SourceSystem, Key: a.Index, RowID: ids[a.Index],
			JobID: st.job.ID, Line: res.results[createdAt[a.Index]].line})
	}
	return res, e.store.InsertKeys(ctx, keys)
}

// accountsOf loads the accounts rows name, with their customers checked.
func (e *Engine) accountsOf(ctx context.Context, st *runState, indexes []string) (map[string]AccountInfo,
	map[int64]CustomerInfo, error) {
	accounts, err := e.store.AccountsByIndex(ctx, indexes)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, 0, len(accounts))
	for _, a := range accounts {
		ids = append(ids, a.CustomerID)
	}
	custs, err := e.store.CustomersByID(ctx, ids)
	return accounts, custs, err
}

// accountFor checks an account reference and its customer.
func (st *runState) accountFor(accounts map[string]AccountInfo, custs map[int64]CustomerInfo, index, masked string) (AccountInfo, *result) {
	a, ok := accounts[index]
	c := custs[a.CustomerID]
	if !ok || !st.inScope(c.OrgID, c.OwnerID) {
		return a, &result{status: identity.OutcomeRejected, column: "account_no",
			reason: "no account " + masked + " in your data scope: import the accounts first"}
	}
	if c.Status == customer.StatusErased {
		return a, &result{status: identity.OutcomeRejected, column: "account_no",
			reason: "the account's customer was erased on a data-subject request"}
	}
	return a, nil
}

func (e *Engine) applyHoldings(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	hs := make([]HoldingRow, len(rows))
	var indexes, holdingIDs []string
	for i, p := range rows {
		hs[i] = p.rec.(HoldingRow)
		indexes = append(indexes, hs[i].AccountIndex)
		if hs[i].HoldingID != "" {
			holdingIDs = append(holdingIDs, hs[i].HoldingID)
		}
	}
	accounts, custs, err := e.accountsOf(ctx, st, indexes)
	if err != nil {
		return applied{}, err
	}
	byKey, natural, err := e.existingHoldings(ctx, st, accounts, holdingIDs)
	if err != nil {
		return applied{}, err
	}
	var res applied
	var keys []ImportKey
	for _, h := range hs {
		a, bad := st.accountFor(accounts, custs, h.AccountIndex, h.Masked)
		if bad != nil {
			res.results = append(res.results, rejected(h.Line, bad))
			continue
		}
		key := "n:" + h.AccountIndex + ":" + h.Product.Code
		ex, ok := natural[[2]int64{a.ID, h.Product.ID}]
		if h.HoldingID != "" {
			key = h.HoldingID
			ex, ok = byKey[h.HoldingID]
		}
		if ok && ex.CustomerID != a.CustomerID {
			res.results = append(res.results, result{line: h.Line, status: identity.OutcomeRejected, column: "holding_id",
				reason: "is a position of another customer"})
			continue
		}
		next := HoldingInfo{ID: ex.ID, AccountID: a.ID, CustomerID: a.CustomerID, ProductID: h.Product.ID,
			Amount: h.Amount, Cost: h.Cost, AcquiredOn: h.AcquiredOn, MaturesOn: h.MaturesOn}
		switch {
		case !ok:
			id, err := e.store.InsertHolding(ctx, next)
			if err != nil {
				return applied{}, err
			}
			keys = append(keys, ImportKey{Kind: KindHoldings, Source: st.job.SourceSystem, Key: key, RowID: id,
				JobID: st.job.ID, Line: h.Line})
			natural[[2]int64{a.ID, h.Product.ID}] = next
			res.results = append(res.results, result{line: h.Line, status: identity.OutcomeCreated})
		case next == ex:
			res.results = append(res.results, result{line: h.Line, status: identity.OutcomeUnchanged})
			continue
		default:
			if err := e.store.UpdateHolding(ctx, next); err != nil {
				return applied{}, err
			}
			res.results = append(res.results, result{line: h.Line, status: identity.OutcomeUpdated})
		}
		res.touched = append(res.touched, a.CustomerID)
	}
	return res, e.store.InsertKeys(ctx, keys)
}

// existingHoldings finds the holdings rows may update: by the source's
// position id (through the import keys), and by account and product for
// files without one (one position per product per account).
func (e *Engine) existingHoldings(ctx context.Context, st *runState, accounts map[string]AccountInfo,
	holdingIDs []string) (map[string]HoldingInfo, map[[2]int64]HoldingInfo, error) {
	keys, err := e.store.Keys(ctx, KindHoldings, st.job.SourceSystem, holdingIDs)
	if err != nil {
		return nil, nil, err
	}
	rowIDs := make([]int64, 0, len(keys))
	for _, k := range keys {
		rowIDs = append(rowIDs, k.RowID)
	}
	rows, err := e.store.HoldingsByID(ctx, rowIDs)
	if err != nil {
		return nil, nil, err
	}
	byKey := map[string]HoldingInfo{}
	for key, k := range keys {
		if h, ok := rows[k.RowID]; ok {
			byKey[key] = h
		}
	}
	customerIDs := make([]int64, 0, len(accounts))
	for _, a := range accounts {
		customerIDs = append(customerIDs, a.CustomerID)
	}
	list, err := e.store.HoldingsByCustomer(ctx, customerIDs)
	if err != nil {
		return nil, nil, err
	}
	natural := map[[2]int64]HoldingInfo{}
	for _, h := range list {
		if _, dup := natural[[2]int64{h.AccountID, h.ProductID}]; !dup {
			natural[[2]int64{h.AccountID, h.ProductID}] = h
		}
	}
	return byKey, natural, nil
}

func (e *Engine) applyTransactions(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	ts := make([]TxnRow, len(rows))
	var indexes, keys []string
	for i, p := range rows {
		ts[i] = p.rec.(TxnRow)
		indexes, keys = append(indexes, ts[i].AccountIndex), append(keys, ts[i].Key)
	}
	accounts, custs, err := e.accountsOf(ctx, st, indexes)
	if err != nil {
		return applied{}, err
	}
	known, err := e.store.Keys(ctx, KindTransactions, st.job.SourceSystem, keys)
	if err != nil {
		return applied{}, err
	}
	var res applied
	var newKeys []ImportKey
	for _, t := range ts {
		a, bad := st.accountFor(accounts, custs, t.AccountIndex, t.Masked)
		if bad != nil {
			res.results = append(res.results, rejected(t.Line, bad))
			continue
		}
		if _, ok := known[t.Key]; ok {
			// A posted transaction is a fact: sent again, it is the same one.
			res.results = append(res.results, result{line: t.Line, status: identity.OutcomeUnchanged})
			continue
		}
		id, err := e.store.InsertTransaction(ctx, TxnWrite{AccountID: a.ID, CustomerID: a.CustomerID, OccurredAt: t.OccurredAt,
			Amount: t.Amount, BalanceAfter: t.BalanceAfter, Kind: t.Kind, Channel: t.Channel, Counterparty: t.Counterparty,
			Description: t.Description})
		if err != nil {
			return applied{}, err
		}
		newKeys = append(newKeys, ImportKey{Kind: KindTransactions, Source: st.job.SourceSystem, Key: t.Key, RowID: id,
			JobID: st.job.ID, Line: t.Line})
		res.results = append(res.results, result{line: t.Line, status: identity.OutcomeCreated})
	}
	return res, e.store.InsertKeys(ctx, newKeys)
}

func (e *Engine) applyRelationships(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	rs := make([]RelRow, len(rows))
	var refs []CustomerRef
	for i, p := range rows {
		rs[i] = p.rec.(RelRow)
		refs = append(refs, rs[i].From, rs[i].To)
	}
	found, err := e.lookupCustomers(ctx, st, refs)
	if err != nil {
		return applied{}, err
	}
	var fromIDs []int64
	for _, r := range rs {
		if c, ok := found[refKey(r.From)]; ok {
			fromIDs = append(fromIDs, c.ID)
		}
	}
	list, err := e.store.RelationshipsOf(ctx, fromIDs)
	if err != nil {
		return applied{}, err
	}
	type relKey struct {
		from, to int64
		kind     string
	}
	existing := map[relKey]RelInfo{}
	for _, r := range list {
		existing[relKey{r.From, r.To, r.Kind}] = r
	}
	var res applied
	var keys []ImportKey
	for _, r := range rs {
		from, bad := st.customerFor(found, r.From)
		if bad == nil {
			var to CustomerInfo
			if to, bad = st.customerFor(found, r.To); bad == nil && to.ID == from.ID {
				bad = &result{status: identity.OutcomeRejected, column: r.To.Column, reason: "is the same customer as the first one"}
			}
			if bad == nil {
				k := relKey{from.ID, to.ID, r.Kind}
				ex, ok := existing[k]
				switch {
				case !ok:
					id, err := e.store.InsertRelationship(ctx, RelInfo{From: from.ID, To: to.ID, Kind: r.Kind, ShareBP: r.ShareBP}, e.clock.Now())
					if err != nil {
						return applied{}, err
					}
					existing[k] = RelInfo{ID: id, From: from.ID, To: to.ID, Kind: r.Kind, ShareBP: r.ShareBP}
					keys = append(keys, ImportKey{Kind: KindRelationships, Source: st.job.SourceSystem,
						Key: strconv.FormatInt(from.ID, 10) + ":" + strconv.FormatInt(to.ID, 10) + ":" + r.Kind, RowID: id,
						JobID: st.job.ID, Line: r.Line})
					res.results = append(res.results, result{line: r.Line, status: identity.OutcomeCreated})
				case ex.ShareBP == r.ShareBP:
					res.results = append(res.results, result{line: r.Line, status: identity.OutcomeUnchanged})
				default:
					if err := e.store.UpdateRelationshipShare(ctx, ex.ID, r.ShareBP); err != nil {
						return applied{}, err
					}
					ex.ShareBP = r.ShareBP
					existing[k] = ex
					res.results = append(res.results, result{line: r.Line, status: identity.OutcomeUpdated})
				}
				continue
			}
		}
		res.results = append(res.results, rejected(r.Line, bad))
	}
	return res, e.store.InsertKeys(ctx, keys)
}

func (e *Engine) applyEvents(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	es := make([]EventRow, len(rows))
	var refs []CustomerRef
	var keys []string
	for i, p := range rows {
		es[i] = p.rec.(EventRow)
		refs, keys = append(refs, es[i].Customer), append(keys, es[i].Key)
	}
	found, err := e.lookupCustomers(ctx, st, refs)
	if err != nil {
		return applied{}, err
	}
	known, err := e.store.Keys(ctx, KindEvents, st.job.SourceSystem, keys)
	if err != nil {
		return applied{}, err
	}
	var res applied
	var newKeys []ImportKey
	for _, ev := range es {
		c, bad := st.customerFor(found, ev.Customer)
		if bad != nil {
			res.results = append(res.results, rejected(ev.Line, bad))
			continue
		}
		if _, ok := known[ev.Key]; ok {
			res.results = append(res.results, result{line: ev.Line, status: identity.OutcomeUnchanged})
			continue
		}
		w := EventWrite{CustomerID: c.ID, OccurredAt: ev.OccurredAt, Channel: ev.Channel, Kind: ev.Kind, Detail: ev.Detail,
			ReceivedAt: e.clock.Now()}
		if ev.Product != nil {
			w.ProductID = &ev.Product.ID
		}
		id, err := e.store.InsertEvent(ctx, w)
		if err != nil {
			return applied{}, err
		}
		newKeys = append(newKeys, ImportKey{Kind: KindEvents, Source: st.job.SourceSystem, Key: ev.Key, RowID: id,
			JobID: st.job.ID, Line: ev.Line})
		res.results = append(res.results, result{line: ev.Line, status: identity.OutcomeCreated})
	}
	return res, e.store.InsertKeys(ctx, newKeys)
}
