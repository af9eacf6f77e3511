package auth

import (
	"context"
	"strconv"

	"kehu/internal/audit"
)

// administer runs a change to a user account and records it on the audit
// trail, in one transaction when the service has a Transactor: creating a
// user, resetting a password or second factor and disabling an account are
// permission changes a bank must be able to show. The actor is whoever is in
// ctx (the CLI puts its operator there).
func (s *Service) administer(ctx context.Context, action string, change func(ctx context.Context) (User, []audit.Change, error)) error {
	run := func(ctx context.Context) error {
		u, changes, err := change(ctx)
		if err != nil || s.cfg.Audit == nil {
			return err
		}
		return s.cfg.Audit.Record(ctx, audit.Entry{Action: action, Object: "user:" + strconv.FormatInt(u.ID, 10),
			Username: u.Username, Changes: changes, Outcome: "ok"})
	}
	if s.cfg.Tx != nil {
		return s.cfg.Tx.WithTx(ctx, run)
	}
	return run(ctx)
}

// administerByName is administer for an existing user named by username.
func (s *Service) administerByName(ctx context.Context, action, username string, change func(ctx context.Context, u User) error) error {
	return s.administer(ctx, action, func(ctx context.Context) (User, []audit.Change, error) {
		u, err := s.store.UserByUsername(ctx, username)
		if err != nil {
			return User{}, nil, err
		}
		return u, nil, change(ctx, u)
	})
}
