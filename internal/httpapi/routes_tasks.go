package httpapi

import "kehu/internal/access"

// taskRoutes are the employees' to-do lists and leads (docs/TASKS.md).
// Every signed-in reader of customers has a to-do list; the services decide
// which tasks and leads each one sees (own, queue, branch) and who may
// change them, and record every read and change.
func taskRoutes() []route {
	return []route{
		{"GET /api/v1/tasks", signedIn, access.CustomerRead, (*api).listTasks},
		{"GET /api/v1/tasks/counts", signedIn, access.CustomerRead, (*api).taskCounts},
		{"GET /api/v1/tasks/{id}", signedIn, access.CustomerRead, (*api).getTask},
		{"POST /api/v1/tasks/{id}/claim", signedIn, access.CustomerRead, (*api).claimTask},
		{"POST /api/v1/tasks/{id}/complete", signedIn, access.CustomerRead, (*api).completeTask},
		{"POST /api/v1/tasks/{id}/cancel", signedIn, access.CustomerRead, (*api).cancelTask},
		{"POST /api/v1/tasks/{id}/reassign", signedIn, access.CustomerRead, (*api).reassignTask},

		{"GET /api/v1/leads", signedIn, access.CustomerRead, (*api).listLeads},
		{"PATCH /api/v1/leads/{id}", signedIn, access.CustomerRead, (*api).updateLead},
	}
}
