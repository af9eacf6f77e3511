package auth

import (
	"context"
	"errors"
	"strconv"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// maxAuditedUsername bounds the attempted username a failed sign-in records:
// it is typed by an unknown party and must not fill the trail.
const maxAuditedUsername = 64

// recordSignIn records the outcome of a sign-in attempt and returns err
// unchanged: auth.login for an opened session, auth.login_failed (outcome
// "failed" or "locked") for a refusal. A second-factor challenge is neither.
// Without Config.Audit nothing is recorded (unit tests of the policy).
func (s *Service) recordSignIn(ctx context.Context, username, ip, userAgent string, u User, sess Session, err error) error {
	var challenge *TOTPRequiredError
	if s.cfg.Audit == nil || errors.As(err, &challenge) {
		return err
	}
	actor := kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, OrgPath: u.OrgPath,
		SessionID: sess.ID, IP: ip, UserAgent: userAgent}
	e := audit.Entry{Action: audit.LoginOK, Object: "user:" + strconv.FormatInt(u.ID, 10), Outcome: "ok"}
	if err != nil {
		if len(username) > maxAuditedUsername {
			username = username[:maxAuditedUsername]
		}
		actor = kehu.Actor{IP: ip, UserAgent: userAgent}
		e = audit.Entry{Action: audit.LoginFailed, Username: username, Object: "user", Outcome: "failed"}
		if kehu.ErrorCode(err) == kehu.ELOCKED {
			e.Outcome = "locked"
		}
	}
	if rerr := s.cfg.Audit.Record(kehu.WithActor(ctx, actor), e); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// recordLogout records the end of the session by its user.
func (s *Service) recordLogout(ctx context.Context, sessionID int64) error {
	if s.cfg.Audit == nil {
		return nil
	}
	return s.cfg.Audit.Record(ctx, audit.Entry{Action: audit.Logout,
		Object: "session:" + strconv.FormatInt(sessionID, 10), Outcome: "ok"})
}
