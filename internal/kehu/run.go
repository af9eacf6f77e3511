package kehu

import (
	"context"
	"errors"
	"time"
)

// A batch run goes over the whole bank (the level recompute, the data-quality
// measurement, the tag recompute) and records itself in its module's table of
// runs: one run of a kind at a time, claimed in the database so that servers
// sharing it never run it twice, alive while its heartbeat is fresh.

// Statuses of a batch run.
const (
	RunRunning = "running"
	RunDone    = "done"
	RunFailed  = "failed"
)

// RunStaleAfter is how long a running run may go without a heartbeat before
// it counts as dead (its process was killed or its machine restarted) and
// another may start: a run beats after every batch, and a batch takes well
// under a second.
const RunStaleAfter = 10 * time.Minute

// RunStarter returns the user who starts a run from ctx, nil when no user does
// (the nightly job, the command line).
func RunStarter(ctx context.Context) *int64 {
	if a, ok := ActorFrom(ctx); ok && a.UserID != 0 {
		return &a.UserID
	}
	return nil
}

// RunOutcome returns the status and the error text a run that ended with err
// records: done; failed with the message of a coded error; "stopped: the
// server shut down" when its context was cancelled; otherwise a pointer to
// the server log, so that an internal error's detail (SQL, paths) reaches the
// log and not every reader of the run.
func RunOutcome(err error) (status, errText string) {
	switch {
	case err == nil:
		return RunDone, ""
	case ErrorCode(err) != EINTERNAL:
		return RunFailed, ErrorMessage(err)
	case errors.Is(err, context.Canceled):
		return RunFailed, "stopped: the server shut down"
	default:
		return RunFailed, "internal error; see the server log"
	}
}
