package auth

import (
	"context"
	"fmt"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// sessionActor returns the actor of a signed-in session. API tokens may not
// manage sessions, tokens, passwords or second factors: a leaked token must
// not be able to entrench itself.
func sessionActor(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return kehu.Actor{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if a.TokenID != 0 {
		return kehu.Actor{}, kehu.Errorf(kehu.EFORBIDDEN, "an API token cannot do this; sign in")
	}
	return a, nil
}

// lift clears restriction from the actor's session if it has it.
func (s *Service) lift(ctx context.Context, a kehu.Actor, restriction string) error {
	if a.SessionID == 0 {
		return nil
	}
	sessions, err := s.store.UserSessions(ctx, a.UserID)
	if err != nil {
		return fmt.Errorf("lift restriction: %w", err)
	}
	for _, se := range sessions {
		if se.ID == a.SessionID && se.Restriction == restriction {
			return s.store.SetSessionRestriction(ctx, se.ID, "")
		}
	}
	return nil
}

// Sessions lists the signed-in user's live sessions, newest first. Expired
// ones still in the table are left out (they end at their next use).
func (s *Service) Sessions(ctx context.Context) ([]Session, error) {
	a, err := sessionActor(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.store.UserSessions(ctx, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	now := s.clock.Now()
	live := all[:0]
	for _, se := range all {
		if now.Before(se.ExpiresAt) && now.Sub(se.LastSeenAt) <= s.cfg.IdleTimeout {
			live = append(live, se)
		}
	}
	return live, nil
}

// RevokeSession ends one of the signed-in user's sessions; another user's
// session id answers ENOTFOUND like an unknown one.
func (s *Service) RevokeSession(ctx context.Context, id int64) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteUserSession(ctx, a.UserID, id)
}

// RevokeOtherSessions ends every session of the signed-in user but this one.
func (s *Service) RevokeOtherSessions(ctx context.Context) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteOtherSessions(ctx, a.UserID, a.SessionID)
}

// RevokeUserSessions ends every session of another user, for an
// administrator (user.manage) responding to a lost laptop or a leaver.
func (s *Service) RevokeUserSessions(ctx context.Context, userID int64) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	if !access.Can(a.Role, access.UserManage) {
		return kehu.Errorf(kehu.EFORBIDDEN, "your role may not manage users")
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, userID)
}
