package auth

import (
	"context"
	"fmt"

	"kehu/internal/kehu"
)

// ChangePassword replaces the signed-in user's password after checking the
// current one. A wrong current password counts as a failed sign-in, so a
// stolen session cannot be used to guess it. Every other session of the user
// ends; this one continues, freed of a password-change restriction.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := CheckPassword(u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("change password %d: %w", u.ID, err)
	}
	if !ok {
		return s.failed(ctx, u.ID, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "current_password", Reason: "is wrong"}}})
	}
	if err := s.replacePassword(ctx, u, next); err != nil {
		return err
	}
	if err := s.store.DeleteOtherSessions(ctx, u.ID, a.SessionID); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return s.lift(ctx, a, RestrictPasswordChange)
}

// replacePassword applies the policy and the history rule, then stores the
// new hash, keeping the old one in the history.
func (s *Service) replacePassword(ctx context.Context, u User, pw string) error {
	invalid := func(reasons ...string) error {
		e := &kehu.Error{Code: kehu.EINVALID, Message: "validation failed"}
		for _, r := range reasons {
			e.Fields = append(e.Fields, kehu.FieldError{Field: "password", Reason: r})
		}
		return e
	}
	if r := s.cfg.Password.Check(u.Username, pw); len(r) > 0 {
		return invalid(r...)
	}
	old, err := s.store.PasswordHistory(ctx, u.ID, s.cfg.Password.History-1)
	if err != nil {
		return fmt.Errorf("password history: %w", err)
	}
	for _, h := range append([]string{u.PasswordHash}, old...) {
		if same, err := CheckPassword(h, pw); err == nil && same {
			return invalid(fmt.Sprintf("must differ from your last %d passwords", s.cfg.Password.History))
		}
	}
	hash, err := HashPassword(pw, s.cfg.Argon2)
	if err != nil {
		return err
	}
	if err := s.store.ReplacePassword(ctx, u.ID, hash, u.PasswordHash, s.clock.Now(), s.cfg.Password.History-1); err != nil {
		return fmt.Errorf("replace password: %w", err)
	}
	return nil
}
