package suitability

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// ActionRead is the audit action of a suitability report: it reveals the
// customer's risk tolerance and the date of their assessment.
const ActionRead = "customer.suitability"

// Store is the storage the service needs.
type Store interface {
	// Assessment returns the customer's risk level and assessment time
	// (ENOTFOUND for an unknown id).
	Assessment(ctx context.Context, customerID int64) (Assessment, error)
	// ShelfProducts returns the products on sale, by code.
	ShelfProducts(ctx context.Context) ([]Product, error)
	// ProductByRef returns the product with this code or numeric id, on
	// sale or not (ENOTFOUND when none).
	ProductByRef(ctx context.Context, ref string) (Product, error)
}

// Settings supplies the assessment validity in force (the contact policy
// settings, internal/policy).
type Settings interface {
	AssessmentValidity(ctx context.Context) (Validity, error)
}

// Service answers suitability questions for staff, within their scope.
type Service struct {
	store     Store
	customers *customer.Service
	settings  Settings
	clock     kehu.Clock
	audit     audit.Recorder
	loc       *time.Location
}

// Deps are the collaborators of a Service. Settings may be nil: the default
// validity then applies.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Settings  Settings
	Clock     kehu.Clock
	Audit     audit.Recorder
}

// NewService returns a Service; it panics without Store, Customers or
// Audit, a wiring mistake.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Customers == nil || d.Audit == nil {
		panic("suitability.NewService: Store, Customers and Audit are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, customers: d.Customers, settings: d.Settings, clock: d.Clock, audit: d.Audit,
		loc: kehu.LoadShanghai()}
}

// Report is a customer's assessment and what it allows.
type Report struct {
	CustomerID int64      `json:"customer_id"`
	Assessment Assessment `json:"assessment"`
	// ExpiresOn is the assessment's expiry date; Valid whether it holds now.
	ExpiresOn      *kehu.Date `json:"expires_on"`
	Valid          bool       `json:"valid"`
	ValidityMonths int        `json:"validity_months"`
	// Results: for one asked product, its result; otherwise every governed
	// product on sale, suitable ones first, then by code.
	Results []Result `json:"results"`
	// Suitable counts the offerable results.
	Suitable int `json:"suitable"`
}

// Validity returns the validity in force.
func (s *Service) Validity(ctx context.Context) (Validity, error) {
	if s.settings == nil {
		return DefaultValidityMonths, nil
	}
	return s.settings.AssessmentValidity(ctx)
}

// ForCustomer returns customer id's report for the actor in ctx, for one
// product (productRef, a code or numeric id) or, with productRef "", for the
// shelf. The customer must be in the actor's read scope (else ENOTFOUND like
// an unknown id); an unknown product is ENOTFOUND naming it. The read is
// recorded once (customer.suitability).
func (s *Service) ForCustomer(ctx context.Context, id int64, productRef string) (Report, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return Report{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CustomerRead) {
		return Report{}, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	visible, err := s.customers.Visible(ctx, id)
	if err != nil {
		return Report{}, err
	}
	if !visible {
		return Report{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	var products []Product
	productRef = strings.TrimSpace(productRef)
	if productRef != "" {
		p, err := s.store.ProductByRef(ctx, productRef)
		if kehu.ErrorCode(err) == kehu.ENOTFOUND {
			return Report{}, kehu.Errorf(kehu.ENOTFOUND, "product %q not found", productRef)
		}
		if err != nil {
			return Report{}, err
		}
		products = []Product{p}
	}
	as, err := s.store.Assessment(ctx, id)
	if err != nil {
		return Report{}, err
	}
	rep, err := s.report(ctx, as, products)
	if err != nil {
		return Report{}, err
	}
	rep.CustomerID = id
	entry := audit.Entry{Action: ActionRead, CustomerID: id, Object: "customer:" + strconv.FormatInt(id, 10),
		Count: len(rep.Results)}
	if productRef != "" {
		entry.Reason = "product " + productRef
	}
	if err := s.audit.Record(ctx, entry); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// Shelf returns the report of an assessment already read (and recorded) by
// the caller — the customer 360 page, whose one customer.read covers the
// risk level — over the governed products on sale. It checks no scope and
// records nothing.
func (s *Service) Shelf(ctx context.Context, as Assessment) (Report, error) {
	return s.report(ctx, as, nil)
}

// report checks products (nil: the governed shelf) against as.
func (s *Service) report(ctx context.Context, as Assessment, products []Product) (Report, error) {
	v, err := s.Validity(ctx)
	if err != nil {
		return Report{}, err
	}
	if products == nil {
		shelf, err := s.store.ShelfProducts(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("suitability shelf: %w", err)
		}
		for _, p := range shelf {
			if Governed(p.Type) {
				products = append(products, p)
			}
		}
	}
	now := s.clock.Now()
	rep := Report{Assessment: as, Valid: v.Valid(as, now, s.loc), ValidityMonths: v.Months(), Results: []Result{}}
	if exp := v.ExpiresOn(as, s.loc); !exp.IsZero() {
		rep.ExpiresOn = &exp
	}
	var ok, no []Result
	for _, p := range products {
		r := Check(as, p, now, v, s.loc)
		if r.Suitable {
			ok = append(ok, r)
		} else {
			no = append(no, r)
		}
	}
	rep.Suitable = len(ok)
	rep.Results = append(append(rep.Results, ok...), no...)
	return rep, nil
}
