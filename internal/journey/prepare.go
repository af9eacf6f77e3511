package journey

import (
	"context"
	"time"

	"kehu/internal/msgtemplate"
	"kehu/internal/policy"
	"kehu/internal/tag"
)

// plan is a chunk of candidates with everything their actions need read and
// decided before the write transaction: the templates, product names, the
// customers' RM and organisation, the tags and the contact-policy
// decisions, taken on the read pool. The transaction then only confirms the
// decisions and writes, so it holds SQLite's single writer for a few
// milliseconds instead of for every read of every firing, and the feeds are
// not held back behind it (docs/JOURNEYS.md, "The engine").
type plan struct {
	items []prepared
	// mark is the contact log's position read before the decisions;
	// Policy.Confirm re-decides, in the transaction, whoever was contacted
	// after it (by a campaign launch, the daily scan or another server).
	mark   int64
	groups []*decisionGroup
}

// prepared is one candidate and its prepared actions (none for a customer
// of the control group, whose actions are not run).
type prepared struct {
	c    candidate
	acts []prepAction
}

// prepAction is what one action needs in the transaction.
type prepAction struct {
	// refusal: the action cannot be done (a deleted template or tag, an
	// unknown product): recorded as failed if the candidate fires.
	refusal error
	// message
	tmpl msgtemplate.Template
	req  policy.Request
	data msgtemplate.Data
	grp  *decisionGroup
	idx  int // the decision's index in grp
	// task and lead
	task TaskRequest
	lead LeadRequest
	// tag
	tag tag.Tag
}

// decisionGroup is one contact-policy question (channel, purpose, product,
// time) asked for several customers at once with DecideMany.
type decisionGroup struct {
	b   policy.Batch
	ids []int64
	ds  []policy.Decision
	// refusal: the question itself cannot be answered (an unknown offered
	// product); every message of the group fails with it.
	refusal error
}

// planReads caches what several candidates of a chunk share.
type planReads struct {
	templates map[int64]msgtemplate.Template
	products  map[int64]string
	tags      map[int64]tag.Tag
	who       map[int64]Who
	groups    map[policy.Batch]*decisionGroup
}

// prepare reads and decides, outside any transaction, what the candidates'
// actions need. A read that fails because the thing is gone (refused) is
// kept as the action's refusal; any other error fails the chunk.
func (e *Engine) prepare(ctx context.Context, cands []candidate, now time.Time) (plan, error) {
	p := plan{items: make([]prepared, len(cands))}
	r := planReads{templates: map[int64]msgtemplate.Template{}, products: map[int64]string{}, tags: map[int64]tag.Tag{},
		who: map[int64]Who{}, groups: map[policy.Batch]*decisionGroup{}}
	for i, c := range cands {
		p.items[i].c = c
		if InControl(c.j.ID, c.customerID, c.j.Definition.ControlPct) {
			continue
		}
		acts := make([]prepAction, len(c.j.Definition.Actions))
		for k, a := range c.j.Definition.Actions {
			pa, err := e.prepareAction(ctx, &r, &p, c, a, now)
			if err != nil && !refused(err) {
				return plan{}, err
			}
			pa.refusal = err
			acts[k] = pa
		}
		p.items[i].acts = acts
	}
	if len(p.groups) == 0 {
		return p, nil
	}
	// The mark is read before the decisions: a contact logged after it is
	// one these decisions may not have counted.
	mark, err := e.d.Policy.Mark(ctx)
	if err != nil {
		return plan{}, err
	}
	p.mark = mark
	for _, g := range p.groups {
		g.ds, err = e.d.Policy.DecideMany(ctx, g.b, g.ids)
		if err != nil && !refused(err) {
			return plan{}, err
		}
		g.refusal = err
	}
	return p, nil
}

// prepareAction reads what action a of candidate c needs.
func (e *Engine) prepareAction(ctx context.Context, r *planReads, p *plan, c candidate, a Action, now time.Time) (prepAction, error) {
	var pa prepAction
	var err error
	switch a.Kind {
	case ActMessage:
		t, ok := r.templates[a.TemplateID]
		if !ok {
			if t, err = e.d.Templates.GetTemplate(ctx, a.TemplateID); err != nil {
				return pa, err
			}
			r.templates[a.TemplateID] = t
		}
		product := a.ProductID
		if product == 0 {
			product = c.productID
		}
		purpose := string(t.Purpose)
		pa.tmpl, pa.data = t, c.data
		pa.req = policy.Request{CustomerID: c.customerID, Channel: policyChannel(a.Channel), Purpose: purpose, At: now}
		if purpose == policy.PurposeMarketing {
			pa.req.ProductID = product
		}
		if product != 0 {
			if pa.data.ProductName, err = r.productName(ctx, e.d.Store, product); err != nil {
				return pa, err
			}
		}
		b := policy.Batch{Channel: pa.req.Channel, Purpose: purpose, ProductID: pa.req.ProductID, At: now}
		g := r.groups[b]
		if g == nil {
			g = &decisionGroup{b: b}
			r.groups[b] = g
			p.groups = append(p.groups, g)
		}
		pa.grp, pa.idx = g, len(g.ids)
		g.ids = append(g.ids, c.customerID)
	case ActTag:
		t, ok := r.tags[a.TagID]
		if !ok {
			if t, err = e.d.Tags.GetTag(ctx, a.TagID); err != nil {
				return pa, err
			}
			r.tags[a.TagID] = t
		}
		pa.tag = t
	case ActTask:
		pa.task, err = e.taskRequest(ctx, r, c, a, now)
	case ActLead:
		pa.lead, err = e.leadRequest(ctx, r, c, a)
	}
	return pa, err
}

func (r *planReads) productName(ctx context.Context, s Store, id int64) (string, error) {
	if n, ok := r.products[id]; ok {
		return n, nil
	}
	n, err := s.ProductName(ctx, id)
	if err == nil {
		r.products[id] = n
	}
	return n, err
}

func (r *planReads) whoIs(ctx context.Context, s Store, customerID int64) (Who, error) {
	if w, ok := r.who[customerID]; ok {
		return w, nil
	}
	w, err := s.Who(ctx, customerID)
	if err == nil {
		r.who[customerID] = w
	}
	return w, err
}

// decision is the prepared decision of a message action.
func (pa prepAction) decision() (policy.Decision, error) {
	if pa.grp.refusal != nil {
		return policy.Decision{}, pa.grp.refusal
	}
	return pa.grp.ds[pa.idx], nil
}

// confirm makes the plan's decisions hold in the transaction in ctx:
// Policy.Confirm excludes the other writers of the contact log until the
// commit and re-decides the customers contacted since the plan's mark.
func (e *Engine) confirm(ctx context.Context, p plan) error {
	for _, g := range p.groups {
		if g.refusal != nil {
			continue
		}
		if _, err := e.d.Policy.Confirm(ctx, g.b, p.mark, g.ds); err != nil {
			return err
		}
	}
	return nil
}
