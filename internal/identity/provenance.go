package identity

import (
	"context"
	"strconv"
	"time"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// AuditProvenance records that a customer's data sources were shown: which
// system set each field and when, and the source records linked to the
// customer (their keys in those systems). No field value is shown.
const AuditProvenance = "customer.provenance"

// FieldProvenance is where each field of a customer's record came from,
// and every source record linked to the customer.
type FieldProvenance struct {
	CustomerID int64         `json:"customer_id"`
	Fields     []FieldOrigin `json:"fields"`
	Sources    []SourceLink  `json:"sources"`
	// Systems names the source systems the fields and sources mention,
	// most trusted first.
	Systems []SourceSystem `json:"systems"`
}

// FieldOrigin is the provenance of one field that has a value, with what
// it means for the next import: the field's rule, whether the value was set
// by a person in Kehu (source "kehu"), and whether such an edit holds
// against imports (priority and first fields: no source outranks Kehu; a
// recent field takes the next newer observation of any source).
type FieldOrigin struct {
	Provenance
	Rule     string `json:"rule"`
	KehuEdit bool   `json:"kehu_edit"`
	Held     bool   `json:"held"`
}

// SourceLink is a source record linked to a customer, as shown to users:
// the system and the customer's key there (a customer number, not personal
// data), how the record was matched, which import linked it, when it was
// first linked (FirstSeen) and the as-of time of the latest record from
// that source that changed something (LastSeen; re-sending the same values
// does not move it).
type SourceLink struct {
	SourceSystem string    `json:"source_system"`
	SourceID     string    `json:"source_id"`
	Origin       bool      `json:"origin"`
	MatchedBy    string    `json:"matched_by"`
	JobID        int64     `json:"job_id,omitempty"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// Provenance returns where each field of customer id came from and the
// customer's source records. The customer must be in the actor's read scope
// (ENOTFOUND otherwise, like an unknown id). It records one
// customer.provenance audit entry in the read's transaction.
func (s *Service) Provenance(ctx context.Context, id int64) (FieldProvenance, error) {
	if s.customers == nil {
		return FieldProvenance{}, kehu.Errorf(kehu.EUNAVAILABLE, "provenance is not available")
	}
	var out FieldProvenance
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		ok, err := s.customers.Visible(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return kehu.Errorf(kehu.ENOTFOUND, "customer not found")
		}
		if out, err = s.ProvenanceOf(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: AuditProvenance, CustomerID: id,
			Object: "customer:" + strconv.FormatInt(id, 10), Count: len(out.Sources)})
	})
	if err != nil {
		return FieldProvenance{}, err
	}
	return out, nil
}

// ProvenanceOf is Provenance without the scope check and the audit record,
// for a caller that has just read the customer through customer.Service in
// the same request (the customer page, whose read is the one record).
func (s *Service) ProvenanceOf(ctx context.Context, id int64) (FieldProvenance, error) {
	found, err := s.store.Customers(ctx, Lookup{IDs: []int64{id}})
	if err != nil {
		return FieldProvenance{}, err
	}
	e := found[id]
	if e == nil {
		return FieldProvenance{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return FieldProvenance{}, err
	}
	out := FieldProvenance{CustomerID: id, Fields: []FieldOrigin{}, Sources: []SourceLink{}}
	for _, f := range Fields {
		if fieldText(e.Customer, f) == "" {
			continue
		}
		o := FieldOrigin{Provenance: e.provenanceOf(f), Rule: rules.rule(f)}
		o.KehuEdit = o.SourceSystem == SourceKehu
		o.Held = o.KehuEdit && o.Rule != RuleRecent
		out.Fields = append(out.Fields, o)
	}
	links, err := s.store.CustomerLinks(ctx, id)
	if err != nil {
		return FieldProvenance{}, err
	}
	used := map[string]bool{}
	for _, f := range out.Fields {
		used[f.SourceSystem] = true
	}
	for _, l := range links {
		out.Sources = append(out.Sources, SourceLink{SourceSystem: l.SourceSystem, SourceID: l.SourceID,
			Origin: l.Origin, MatchedBy: l.MatchedBy, JobID: l.JobID, FirstSeen: l.FirstSeen, LastSeen: l.LinkedAt})
		used[l.SourceSystem] = true
	}
	systems, err := s.store.SourceSystems(ctx)
	if err != nil {
		return FieldProvenance{}, err
	}
	out.Systems = []SourceSystem{}
	for _, x := range systems {
		if used[x.Code] {
			out.Systems = append(out.Systems, x)
		}
	}
	return out, nil
}
