package journey

import (
	"context"
	"time"

	"kehu/internal/policy"
	"kehu/internal/sales"
	"kehu/internal/segment"
	"kehu/internal/task"
)

// WorkOf creates a journey's tasks and leads through the task and lead
// services, in the firing's transaction.
func WorkOf(tasks *task.Service, leads *sales.Service) Work { return work{tasks: tasks, leads: leads} }

type work struct {
	tasks *task.Service
	leads *sales.Service
}

func (w work) CreateTask(ctx context.Context, r TaskRequest) (bool, error) {
	n := task.New{Kind: task.Kind(r.Kind), Title: r.Title, Detail: r.Detail, Actions: r.Suggested,
		CustomerID: r.CustomerID, ProductID: r.ProductID, AssigneeID: r.AssigneeID,
		SourceKind: policy.SourceJourney, SourceID: r.JourneyID, DedupKey: r.DedupKey}
	if r.QueueRole != "" {
		n.Queue = task.Queue{Role: r.QueueRole, OrgID: r.QueueOrgID}
	}
	if r.DueAt != nil {
		n.DueAt = *r.DueAt
	}
	if r.Kind == string(task.LobbyAlert) || r.Kind == string(task.ChurnAlert) {
		n.Priority = task.High
	}
	k, err := w.tasks.Create(ctx, []task.New{n})
	return k > 0, err
}

func (w work) CreateLead(ctx context.Context, r LeadRequest) (bool, error) {
	k, err := w.leads.Create(ctx, []sales.NewLead{{CustomerID: r.CustomerID, ProductID: r.ProductID,
		SourceKind: policy.SourceJourney, SourceID: r.JourneyID, AssigneeID: r.AssigneeID, Note: r.Note,
		DedupKey: r.DedupKey}})
	return k > 0, err
}

// Planner plans saved segments (segment.Service).
type Planner interface {
	PlanFor(ctx context.Context, id int64, now time.Time) (*segment.Plan, error)
}

// FactLoader loads the facts of segment.Plan.Eval (store.SegmentStore).
type FactLoader interface {
	SegmentFacts(ctx context.Context, ids []int64, since, now time.Time) (map[int64]*segment.Facts, error)
}

// SegmentsOf joins the segment service's plans and the store's facts.
func SegmentsOf(p Planner, f FactLoader) Segments { return segments{p, f} }

type segments struct {
	Planner
	FactLoader
}
