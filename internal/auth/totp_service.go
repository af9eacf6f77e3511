package auth

import (
	"context"
	"fmt"
	"kehu/internal/audit"

	"kehu/internal/kehu"
)

// TOTPEnrolment is what an authenticator app needs: the secret as base32
// text to type in and as an otpauth:// URI to import.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// BeginTOTP generates a new secret for the signed-in user, stored (sealed)
// but not in force until ConfirmTOTP proves the app has it. Starting again
// replaces a pending secret; an enrolled user gets ECONFLICT.
func (s *Service) BeginTOTP(ctx context.Context) (TOTPEnrolment, error) {
	a, err := sessionActor(ctx)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	st, err := s.store.AuthState(ctx, a.UserID)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp: %w", err)
	}
	if st.TOTPEnabled {
		return TOTPEnrolment{}, kehu.Errorf(kehu.ECONFLICT, "a second factor is already enrolled")
	}
	secret, err := newTOTPSecret()
	if err != nil {
		return TOTPEnrolment{}, err
	}
	sealed := secret
	if s.cfg.Sealer != nil {
		if sealed, err = s.cfg.Sealer.Seal(ctx, secret); err != nil {
			return TOTPEnrolment{}, fmt.Errorf("seal totp secret: %w", err)
		}
	}
	if err := s.store.SetTOTPSecret(ctx, a.UserID, sealed); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp: %w", err)
	}
	return TOTPEnrolment{Secret: secret, URI: totpURI(s.cfg.TOTPIssuer, a.Username, secret)}, nil
}

// ConfirmTOTP turns the pending secret on when code matches it, and lifts a
// session's enrolment restriction.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	st, err := s.store.AuthState(ctx, a.UserID)
	if err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	if st.TOTPEnabled {
		return kehu.Errorf(kehu.ECONFLICT, "a second factor is already enrolled")
	}
	if st.TOTPSecret == "" {
		return kehu.Errorf(kehu.ECONFLICT, "start the enrolment first")
	}
	key, err := s.totpKey(ctx, st.TOTPSecret)
	if err != nil {
		return err
	}
	step := matchTOTP(key, code, s.clock.Now(), 0)
	if step == 0 {
		return &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "code", Reason: "does not match the authenticator app"}}}
	}
	if err := s.store.EnableTOTP(ctx, a.UserID, step); err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	return s.lift(ctx, a, RestrictTOTPEnrolment)
}

// ResetTOTP removes a user's second factor (a lost phone), for an operator;
// if their role requires one, their next sign-in must enrol again.
func (s *Service) ResetTOTP(ctx context.Context, username string) error {
	return s.administerByName(ctx, audit.UserTOTPReset, username, func(ctx context.Context, u User) error {
		if err := s.store.SetTOTPSecret(ctx, u.ID, ""); err != nil {
			return fmt.Errorf("reset totp: %w", err)
		}
		return s.store.DeleteUserSessions(ctx, u.ID)
	})
}

// checkTOTP verifies a sign-in code. A wrong or replayed code is a failed
// sign-in for the lockout count.
func (s *Service) checkTOTP(ctx context.Context, u User, st AuthState, code string) error {
	bad := kehu.Errorf(kehu.EUNAUTHORIZED, "wrong or expired code")
	key, err := s.totpKey(ctx, st.TOTPSecret)
	if err != nil {
		return err
	}
	step := matchTOTP(key, code, s.clock.Now(), st.TOTPLastStep)
	if step == 0 {
		return s.failed(ctx, u.ID, bad)
	}
	// The conditional update makes two concurrent uses of one code race
	// for a single winner.
	ok, err := s.store.UseTOTPStep(ctx, u.ID, step)
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	if !ok {
		return s.failed(ctx, u.ID, bad)
	}
	return nil
}

func (s *Service) totpKey(ctx context.Context, sealed string) ([]byte, error) {
	secret := sealed
	if s.cfg.Sealer != nil {
		var err error
		if secret, err = s.cfg.Sealer.Open(ctx, sealed); err != nil {
			return nil, fmt.Errorf("open totp secret: %w", err)
		}
	}
	key, err := b32.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("totp secret: %w", err)
	}
	return key, nil
}

// TOTPEnabled reports whether the signed-in user has a second factor.
func (s *Service) TOTPEnabled(ctx context.Context) (bool, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return false, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	st, err := s.store.AuthState(ctx, a.UserID)
	if err != nil {
		return false, fmt.Errorf("totp state: %w", err)
	}
	return st.TOTPEnabled, nil
}
