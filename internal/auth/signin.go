package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// Credentials are what a sign-in sends. TOTPCode is needed only by users
// with a second factor.
type Credentials struct {
	Username, Password, TOTPCode string
	IP, UserAgent                string
}

// challengeLifetime bounds how long the UI's second form stays valid.
const challengeLifetime = 5 * time.Minute

// SignIn checks the password, the lockout and, for enrolled users, the TOTP
// code, then opens a session. Failures are counted per account: Threshold
// consecutive ones lock it (a *LockedError, 423), even for the right
// password, until the back-off passes. An enrolled user without a code gets a
// *TOTPRequiredError carrying a challenge for CompleteSignIn.
func (s *Service) SignIn(ctx context.Context, c Credentials) (string, Session, User, error) {
	token, sess, u, err := s.signIn(ctx, c)
	return token, sess, u, s.recordSignIn(ctx, c.Username, c.IP, c.UserAgent, u, sess, err)
}

// signIn is SignIn before the attempt is recorded.
func (s *Service) signIn(ctx context.Context, c Credentials) (string, Session, User, error) {
	u, st, err := s.checkPassword(ctx, c.Username, c.Password)
	if err != nil {
		return "", Session{}, User{}, err
	}
	if st.TOTPEnabled {
		if c.TOTPCode == "" {
			return "", Session{}, User{}, s.newChallenge(ctx, u.ID)
		}
		if err := s.checkTOTP(ctx, u, st, c.TOTPCode); err != nil {
			return "", Session{}, User{}, err
		}
	}
	return s.openSession(ctx, u, st, c.IP, c.UserAgent)
}

// CompleteSignIn is the second step of a sign-in that got a
// *TOTPRequiredError: the challenge stands for the password already checked.
// A wrong code counts as a failed sign-in; the challenge stays usable until
// it expires or the account locks.
func (s *Service) CompleteSignIn(ctx context.Context, challenge, code, ip, userAgent string) (string, Session, User, error) {
	token, sess, u, err := s.completeSignIn(ctx, challenge, code, ip, userAgent)
	return token, sess, u, s.recordSignIn(ctx, u.Username, ip, userAgent, u, sess, err)
}

// completeSignIn is CompleteSignIn before the attempt is recorded.
func (s *Service) completeSignIn(ctx context.Context, challenge, code, ip, userAgent string) (string, Session, User, error) {
	bad := kehu.Errorf(kehu.EUNAUTHORIZED, "wrong or expired code")
	if challenge == "" || len(challenge) > 200 {
		return "", Session{}, User{}, bad
	}
	hash := HashToken(challenge)
	userID, err := s.store.ChallengeUser(ctx, hash, s.clock.Now())
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return "", Session{}, User{}, bad
	} else if err != nil {
		return "", Session{}, User{}, fmt.Errorf("sign-in challenge: %w", err)
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("sign-in challenge: %w", err)
	}
	st, err := s.store.AuthState(ctx, u.ID)
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("sign-in challenge: %w", err)
	}
	if u.Disabled {
		return "", Session{}, User{}, bad
	}
	if s.clock.Now().Before(st.LockedUntil) {
		_ = s.store.DeleteChallenge(ctx, hash)
		return "", Session{}, User{}, s.locked(st.LockedUntil)
	}
	if err := s.checkTOTP(ctx, u, st, code); err != nil {
		if kehu.ErrorCode(err) == kehu.ELOCKED {
			_ = s.store.DeleteChallenge(ctx, hash)
		}
		return "", Session{}, User{}, err
	}
	if err := s.store.DeleteChallenge(ctx, hash); err != nil {
		return "", Session{}, User{}, fmt.Errorf("sign-in challenge: %w", err)
	}
	return s.openSession(ctx, u, st, ip, userAgent)
}

// checkPassword finds the user and checks lock and password. Unknown users
// cost one argon2 computation like known ones, so timing does not tell
// whether a username exists.
func (s *Service) checkPassword(ctx context.Context, username, password string) (User, AuthState, error) {
	bad := kehu.Errorf(kehu.EUNAUTHORIZED, "wrong username or password")
	if len(password) > 4*maxPasswordLength {
		return User{}, AuthState{}, bad
	}
	u, err := s.store.UserByUsername(ctx, strings.TrimSpace(username))
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		_, _ = CheckPassword(s.dummyHash, password)
		return User{}, AuthState{}, bad
	} else if err != nil {
		return User{}, AuthState{}, fmt.Errorf("login: %w", err)
	}
	st, err := s.store.AuthState(ctx, u.ID)
	if err != nil {
		return User{}, AuthState{}, fmt.Errorf("login %d: %w", u.ID, err)
	}
	if s.clock.Now().Before(st.LockedUntil) {
		return User{}, AuthState{}, s.locked(st.LockedUntil)
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return User{}, AuthState{}, fmt.Errorf("login %d: %w", u.ID, err)
	}
	if u.Disabled {
		return User{}, AuthState{}, bad
	}
	if !ok {
		return User{}, AuthState{}, s.failed(ctx, u.ID, bad)
	}
	return u, st, nil
}

// failed counts a failed attempt and locks the account when it reaches the
// threshold, returning the error the caller should give: refusal, or the
// lock that this failure caused.
func (s *Service) failed(ctx context.Context, userID int64, refusal error) error {
	n, lockouts, err := s.store.RecordLoginFailure(ctx, userID)
	if err != nil {
		return fmt.Errorf("count failed login %d: %w", userID, err)
	}
	if n < s.cfg.Lockout.Threshold {
		return refusal
	}
	until := s.clock.Now().Add(s.cfg.Lockout.duration(lockouts))
	if err := s.store.LockUser(ctx, userID, until); err != nil {
		return fmt.Errorf("lock user %d: %w", userID, err)
	}
	return s.locked(until)
}

// newChallenge stores a pending second-factor sign-in and returns the error
// that carries its token.
func (s *Service) newChallenge(ctx context.Context, userID int64) error {
	token, hash, err := newToken()
	if err != nil {
		return err
	}
	if err := s.store.CreateChallenge(ctx, userID, hash, s.clock.Now().Add(challengeLifetime)); err != nil {
		return fmt.Errorf("sign-in challenge: %w", err)
	}
	return &TOTPRequiredError{Challenge: token}
}

// openSession resets the failure count and creates the session, restricted
// when the password has expired or the role needs TOTP the user lacks.
func (s *Service) openSession(ctx context.Context, u User, st AuthState, ip, userAgent string) (string, Session, User, error) {
	if st.FailedLogins > 0 || st.Lockouts > 0 || !st.LockedUntil.IsZero() {
		if err := s.store.ResetLoginFailures(ctx, u.ID); err != nil {
			return "", Session{}, User{}, fmt.Errorf("login %d: %w", u.ID, err)
		}
	}
	token, hash, err := newToken()
	if err != nil {
		return "", Session{}, User{}, err
	}
	csrf, _, err := newToken()
	if err != nil {
		return "", Session{}, User{}, err
	}
	now := s.clock.Now()
	sess, err := s.store.CreateSession(ctx, Session{UserID: u.ID, TokenHash: hash, CSRFToken: csrf,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.AbsoluteTimeout), IP: ip, UserAgent: userAgent,
		Restriction: s.restriction(u, st, now)})
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("login: %w", err)
	}
	return token, sess, u, nil
}

// restriction is what a new session must do first, if anything.
func (s *Service) restriction(u User, st AuthState, now time.Time) string {
	changed := st.PasswordChangedAt
	if changed.IsZero() {
		changed = u.CreatedAt
	}
	if s.cfg.Password.MaxAge > 0 && now.Sub(changed) > s.cfg.Password.MaxAge {
		return RestrictPasswordChange
	}
	if !st.TOTPEnabled && slices.Contains(s.cfg.RequireTOTPRoles, u.Role) {
		return RestrictTOTPEnrolment
	}
	return ""
}

// locked is the error for an account locked until the given time.
func (s *Service) locked(until time.Time) *LockedError {
	return &LockedError{Until: until, RetryAfter: until.Sub(s.clock.Now())}
}
