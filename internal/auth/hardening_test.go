package auth_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestPasswordPolicy(t *testing.T) {
	p := auth.DefaultPasswordPolicy
	for _, c := range []struct {
		user, pw string
		ok       bool
	}{
		{"rm_a", testkit.Password, true},
		{"rm_a", "Kehu-Demo-2026", true},
		{"rm_a", "short-1A", false},            // 8 characters
		{"rm_a", "alllowercaseletters", false}, // one class
		{"rm_a", "lowercase-and-digits-1", true},
		{"rm_a", "My-rm_a-pass-1", false}, // contains the username
		{"rm_a", "My-RM_A-pass-1", false}, // case does not hide it
		{"", "密码很长很长很长很长-2026", false},    // CJK counts as "other": two classes
		{"", "密码很长很长Abc-2026", true},
	} {
		if got := len(p.Check(c.user, c.pw)) == 0; got != c.ok {
			t.Errorf("Check(%q, %q) ok=%v, want %v: %v", c.user, c.pw, got, c.ok, p.Check(c.user, c.pw))
		}
	}
}

// hardened returns a service over the test bank's store with policy knobs set.
func hardened(t *testing.T, b *testkit.Bank, mod func(*auth.Config)) *auth.Service {
	t.Helper()
	cfg := testkit.FastAuth
	if mod != nil {
		mod(&cfg)
	}
	s, err := auth.NewService(b.DB.Users(), b.Clock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLockout(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s, ctx := b.Auth, b.As("admin")
		for i := 1; i <= 4; i++ {
			if _, _, _, err := s.Login(ctx, "rm_a", "Wrong-pass-2026", "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, _, _, err := s.Login(ctx, "rm_a", "Wrong-pass-2026", "", "")
		var locked *auth.LockedError
		if !errors.As(err, &locked) || kehu.ErrorCode(err) != kehu.ELOCKED || locked.Until.Sub(b.Clock.Now()) != time.Minute {
			t.Fatalf("5th failure: %v", err)
		}
		if _, _, _, err := s.Login(ctx, "rm_a", testkit.Password, "", ""); kehu.ErrorCode(err) != kehu.ELOCKED {
			t.Fatalf("right password while locked: %v", err)
		}
		// Other accounts are unaffected.
		if _, _, _, err := s.Login(ctx, "rm_b", testkit.Password, "", ""); err != nil {
			t.Fatal(err)
		}
		b.Clock.Advance(61 * time.Second)
		// The second lockout doubles.
		for range 5 {
			_, _, _, err = s.Login(ctx, "rm_a", "Wrong-pass-2026", "", "")
		}
		if !errors.As(err, &locked) || locked.Until.Sub(b.Clock.Now()) != 2*time.Minute {
			t.Fatalf("second lockout: %v", err)
		}
		b.Clock.Advance(2*time.Minute + time.Second)
		// Success resets: four failures then success, then four more do not lock.
		if _, _, _, err := s.Login(ctx, "rm_a", testkit.Password, "", ""); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		for range 4 {
			_, _, _, err = s.Login(ctx, "rm_a", "Wrong-pass-2026", "", "")
		}
		if kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Fatalf("counter not reset: %v", err)
		}
		// Unknown users never lock and answer like wrong passwords.
		for range 6 {
			_, _, _, err = s.Login(ctx, "nobody", "Wrong-pass-2026", "", "")
		}
		if kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestLockoutBackoffCap(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	s := hardened(t, b, func(c *auth.Config) { c.Lockout = auth.LockoutPolicy{Threshold: 1} })
	var want = []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, w := range want {
		_, _, _, err := s.Login(b.As("admin"), "rm_a", "Wrong-pass-2026", "", "")
		var locked *auth.LockedError
		if !errors.As(err, &locked) || locked.Until.Sub(b.Clock.Now()) != w*time.Minute {
			t.Fatalf("lockout %d: %v, want %v", i+1, err, w*time.Minute)
		}
		b.Clock.Advance(w*time.Minute + time.Second)
	}
}

// signedIn returns a context acting through a real session of username.
func signedIn(t *testing.T, s *auth.Service, username, password string) (string, auth.Session, kehu.Actor) {
	t.Helper()
	tok, _, _, err := s.Login(t.Context(), username, password, "10.0.0.1", "test-agent")
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	sess, a, err := s.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, sess, a
}

func TestPasswordChangeAndHistory(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := b.Auth
		other, _, _ := signedIn(t, s, "rm_a", testkit.Password)
		_, _, a := signedIn(t, s, "rm_a", testkit.Password)
		ctx := kehu.WithActor(t.Context(), a)
		if err := s.ChangePassword(ctx, "Wrong-pass-2026", "Brand-new-2026"); kehu.ErrorCode(err) != kehu.EINVALID ||
			kehu.ErrorFields(err)[0].Field != "current_password" {
			t.Fatalf("wrong current: %v", err)
		}
		if err := s.ChangePassword(ctx, testkit.Password, testkit.Password); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("same password accepted: %v", err)
		}
		pws := []string{"Second-pass-2026", "Third-pass-2026", "Fourth-pass-2026", "Fifth-pass-2026"}
		cur := testkit.Password
		for _, pw := range pws {
			if err := s.ChangePassword(ctx, cur, pw); err != nil {
				t.Fatalf("change to %s: %v", pw, err)
			}
			cur = pw
		}
		// The last five (current + four earlier) are refused; the sixth back is allowed.
		for _, pw := range append([]string{testkit.Password}, pws...) {
			if err := s.ChangePassword(ctx, cur, pw); kehu.ErrorCode(err) != kehu.EINVALID {
				t.Errorf("reuse of %s: %v", pw, err)
			}
		}
		if err := s.ChangePassword(ctx, cur, "Sixth-pass-2026"); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangePassword(ctx, "Sixth-pass-2026", testkit.Password); err != nil {
			t.Errorf("password six changes back refused: %v", err)
		}
		// The other session ended, this one lives.
		if _, _, err := s.Authenticate(t.Context(), other); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("other session after a change: %v", err)
		}
		if _, err := s.Sessions(ctx); err != nil {
			t.Errorf("own session after a change: %v", err)
		}
	})
}

func TestPasswordMaxAge(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	s := hardened(t, b, func(c *auth.Config) { c.Password.MaxAge = 90 * 24 * time.Hour })
	_, sess, _ := signedIn(t, s, "rm_a", testkit.Password)
	if sess.Restriction != "" {
		t.Fatalf("fresh password restricted: %q", sess.Restriction)
	}
	b.Clock.Advance(91 * 24 * time.Hour)
	_, sess, a := signedIn(t, s, "rm_a", testkit.Password)
	if sess.Restriction != auth.RestrictPasswordChange {
		t.Fatalf("expired password: restriction %q", sess.Restriction)
	}
	if err := s.ChangePassword(kehu.WithActor(t.Context(), a), testkit.Password, "Renewed-pass-2026"); err != nil {
		t.Fatal(err)
	}
	tok, _, _, _ := s.Login(t.Context(), "rm_a", "Renewed-pass-2026", "", "")
	if sess, _, _ := s.Authenticate(t.Context(), tok); sess.Restriction != "" {
		t.Errorf("after the change: %q", sess.Restriction)
	}
}

func TestTOTP(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := hardened(t, b, func(c *auth.Config) { c.RequireTOTPRoles = auth.DefaultTOTPRoles })
		// A required role without TOTP gets a session restricted to enrolment.
		bmToken, sess, a := signedIn(t, s, "branch_manager", testkit.Password)
		if sess.Restriction != auth.RestrictTOTPEnrolment {
			t.Fatalf("restriction %q", sess.Restriction)
		}
		ctx := kehu.WithActor(t.Context(), a)
		if err := s.ConfirmTOTP(ctx, "123456"); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("confirm before begin: %v", err)
		}
		en, err := s.BeginTOTP(ctx)
		if err != nil || len(en.Secret) != 32 {
			t.Fatalf("begin: %v %+v", err, en)
		}
		if err := s.ConfirmTOTP(ctx, "000000"); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("wrong confirmation code: %v", err)
		}
		code, _ := auth.TOTPCode(en.Secret, b.Clock.Now())
		if err := s.ConfirmTOTP(ctx, code); err != nil {
			t.Fatal(err)
		}
		if sess, _, _ := s.Authenticate(t.Context(), bmToken); sess.Restriction != "" {
			t.Errorf("restriction after enrolment: %q", sess.Restriction)
		}
		if _, err := s.BeginTOTP(ctx); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("second enrolment: %v", err)
		}
		// Password alone now asks for the code.
		_, _, _, err = s.Login(t.Context(), "branch_manager", testkit.Password, "", "")
		var need *auth.TOTPRequiredError
		if !errors.As(err, &need) || need.Challenge == "" || kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Fatalf("password only: %v", err)
		}
		// The confirmation code was used: the same code is refused (replay).
		if _, _, _, err := s.CompleteSignIn(t.Context(), need.Challenge, code, "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("replayed code: %v", err)
		}
		b.Clock.Advance(30 * time.Second)
		code, _ = auth.TOTPCode(en.Secret, b.Clock.Now())
		if _, _, _, err := s.CompleteSignIn(t.Context(), "forged", code, "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("forged challenge: %v", err)
		}
		if _, sess, _, err := s.CompleteSignIn(t.Context(), need.Challenge, code, "", ""); err != nil || sess.Restriction != "" {
			t.Fatalf("second step: %v %q", err, sess.Restriction)
		}
		if _, _, _, err := s.CompleteSignIn(t.Context(), need.Challenge, code, "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("challenge reused: %v", err)
		}
		// One-shot with the code (the API form); the code just used is refused.
		if _, _, _, err := s.SignIn(t.Context(), auth.Credentials{Username: "branch_manager", Password: testkit.Password, TOTPCode: code}); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("replayed one-shot code: %v", err)
		}
		b.Clock.Advance(30 * time.Second)
		code, _ = auth.TOTPCode(en.Secret, b.Clock.Now())
		if _, _, _, err := s.SignIn(t.Context(), auth.Credentials{Username: "branch_manager", Password: testkit.Password, TOTPCode: code}); err != nil {
			t.Errorf("one-shot: %v", err)
		}
		// Wrong codes count towards the lockout.
		for range 5 {
			_, _, _, err = s.SignIn(t.Context(), auth.Credentials{Username: "branch_manager", Password: testkit.Password, TOTPCode: "000000"})
		}
		if kehu.ErrorCode(err) != kehu.ELOCKED {
			t.Errorf("wrong codes did not lock: %v", err)
		}
		// An operator reset removes the factor: the next sign-in must enrol again.
		if err := s.ResetTOTP(t.Context(), "branch_manager"); err != nil {
			t.Fatal(err)
		}
		b.Clock.Advance(2 * time.Minute)
		if _, sess, _ := signedIn(t, s, "branch_manager", testkit.Password); sess.Restriction != auth.RestrictTOTPEnrolment {
			t.Errorf("after reset: %q", sess.Restriction)
		}
	})
}

// TestTOTPRequiredOfPrivilegedRoles checks who the default rule asks for a
// second factor: the roles that see the whole bank or a branch, manage users
// or govern the data (the data steward: dictionary, merges, imports), and
// nobody else of the test bank.
func TestTOTPRequiredOfPrivilegedRoles(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := hardened(t, b, func(c *auth.Config) { c.RequireTOTPRoles = auth.DefaultTOTPRoles })
		required := map[string]bool{access.Admin: true, access.ComplianceAuditor: true, access.BranchManager: true,
			access.DataSteward: true}
		for name, u := range b.Users {
			_, sess, _ := signedIn(t, s, name, testkit.Password)
			want := ""
			if required[u.Role] {
				want = auth.RestrictTOTPEnrolment
			}
			if sess.Restriction != want {
				t.Errorf("%s (%s): session restriction %q, want %q", name, u.Role, sess.Restriction, want)
			}
		}
	})
}

func TestSessionsAndTokens(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := b.Auth
		first, _, _ := signedIn(t, s, "rm_a", testkit.Password)
		b.Clock.Advance(time.Minute)
		_, cur, a := signedIn(t, s, "rm_a", testkit.Password)
		ctx := kehu.WithActor(t.Context(), a)
		list, err := s.Sessions(ctx)
		if err != nil || len(list) != 2 || list[0].ID != cur.ID || list[0].IP != "10.0.0.1" || list[0].UserAgent != "test-agent" {
			t.Fatalf("sessions: %v %+v", err, list)
		}
		// Another user's session id is not found.
		_, bs, _ := signedIn(t, s, "rm_b", testkit.Password)
		if err := s.RevokeSession(ctx, bs.ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("revoke another's session: %v", err)
		}
		if err := s.RevokeSession(ctx, list[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(t.Context(), first); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("revoked session works: %v", err)
		}
		// Tokens: scopes within the role, bounded expiry, shown once.
		now := b.Clock.Now()
		_, _, err = s.CreateAPIToken(ctx, auth.NewAPIToken{Name: "crm-sync", Scopes: []string{"user.manage"}, ExpiresAt: now.Add(400 * 24 * time.Hour)})
		if fields := kehu.ErrorFields(err); len(fields) != 2 {
			t.Errorf("bad token input: %v", err)
		}
		secret, tok, err := s.CreateAPIToken(ctx, auth.NewAPIToken{Name: "crm-sync", Scopes: []string{"customer.read"}, ExpiresAt: now.Add(24 * time.Hour)})
		if err != nil || !auth.IsAPIToken(secret) || len(secret) < 50 {
			t.Fatalf("create token: %v %q", err, secret)
		}
		_, ta, err := s.Authenticate(t.Context(), secret)
		if err != nil || ta.TokenID != tok.ID || !slices.Equal(ta.Scopes, []string{"customer.read"}) {
			t.Fatalf("token auth: %v %+v", err, ta)
		}
		if !auth.Permitted(ta, access.CustomerRead) || auth.Permitted(ta, access.CustomerWrite) || !auth.Permitted(a, access.CustomerWrite) {
			t.Error("Permitted does not narrow by scope")
		}
		tctx := kehu.WithActor(t.Context(), ta)
		if _, _, err := s.CreateAPIToken(tctx, auth.NewAPIToken{Name: "x", Scopes: []string{"customer.read"}, ExpiresAt: now.Add(time.Hour)}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("a token minted a token: %v", err)
		}
		if _, _, err := s.CreateAPIToken(ctx, auth.NewAPIToken{UserID: b.Users["rm_b"].ID, Name: "x", Scopes: []string{"customer.read"}, ExpiresAt: now.Add(time.Hour)}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("token for another user: %v", err)
		}
		list2, _ := s.APITokens(ctx)
		if len(list2) != 1 || list2[0].Name != "crm-sync" {
			t.Errorf("tokens: %+v", list2)
		}
		if _, _, err := s.Authenticate(t.Context(), secret+"x"); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("forged token: %v", err)
		}
		b.Clock.Advance(25 * time.Hour)
		if _, _, err := s.Authenticate(t.Context(), secret); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("expired token: %v", err)
		}
		if err := s.RevokeAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		// An admin revokes all of a user's sessions.
		if err := s.RevokeUserSessions(ctx, b.Users["rm_b"].ID); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm revoked another user's sessions: %v", err)
		}
	})
}
