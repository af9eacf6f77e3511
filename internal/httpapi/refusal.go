package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// recordRefusal puts a request the route table refused for want of a
// permission or token scope on the audit trail: the services record their own
// refusals, but these never reach a service, and an attempt to unmask or
// export without the right is exactly what compliance reviews. Rate limits
// and session restrictions are not refusals of a right and are not recorded.
func (a *api) recordRefusal(ctx context.Context, r *http.Request, rt route, err error) {
	if a.d.Audit == nil || kehu.ErrorCode(err) != kehu.EFORBIDDEN {
		return
	}
	e := audit.Entry{Action: audit.AccessDenied, Object: rt.pattern, Reason: kehu.ErrorMessage(err), Outcome: "denied"}
	if strings.Contains(rt.pattern, "/customers/{id}") {
		if id, perr := strconv.ParseInt(r.PathValue("id"), 10, 64); perr == nil && id > 0 {
			e.CustomerID = id
		}
	}
	if rerr := a.d.Audit.Record(ctx, e); rerr != nil {
		a.log.ErrorContext(ctx, "audit of a refused request failed", "route", rt.pattern, "err", rerr)
	}
}
