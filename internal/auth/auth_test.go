package auth_test

import (
	"strings"
	"testing"
	"time"

	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("correct horse", auth.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(h, "correct horse") {
		t.Fatalf("unexpected hash %s", h)
	}
	h2, _ := auth.HashPassword("correct horse", auth.DefaultArgon2)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		if ok, err := auth.CheckPassword(h, pw); err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	if _, err := auth.CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Error("a foreign hash format was accepted")
	}
}

func TestLoginAndSessions(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		ctx := b.As("admin")
		if _, _, _, err := b.Auth.Login(ctx, "rm_a", "wrong-password", "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("wrong password: %v", err)
		}
		if _, _, _, err := b.Auth.Login(ctx, "nobody", testkit.Password, "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("unknown user: %v", err)
		}
		token, sess, u, err := b.Auth.Login(ctx, " rm_a ", testkit.Password, "10.0.0.1", "test")
		if err != nil || u.Username != "rm_a" || sess.CSRFToken == "" || len(token) < 40 {
			t.Fatalf("login: %v %+v", err, u)
		}
		_, a, err := b.Auth.Authenticate(ctx, token)
		if err != nil || a.UserID != u.ID || a.OrgPath != b.OutletA.Path || a.Role != "relationship_manager" {
			t.Fatalf("authenticate: %v %+v", err, a)
		}
		if _, _, err := b.Auth.Authenticate(ctx, token+"x"); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("forged token: %v", err)
		}
		// Idle timeout: activity keeps the session, silence ends it.
		b.Clock.Advance(20 * time.Minute)
		if _, _, err := b.Auth.Authenticate(ctx, token); err != nil {
			t.Fatalf("after 20 idle minutes: %v", err)
		}
		b.Clock.Advance(31 * time.Minute)
		if _, _, err := b.Auth.Authenticate(ctx, token); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("after 31 idle minutes: %v", err)
		}
		// Logout ends the session at once.
		token, sess, _, _ = b.Auth.Login(ctx, "rm_a", testkit.Password, "", "")
		if err := b.Auth.Logout(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Auth.Authenticate(ctx, token); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("token after logout: %v", err)
		}
		// Disabling a user ends their sessions and blocks login.
		token, _, _, _ = b.Auth.Login(ctx, "rm_a", testkit.Password, "", "")
		if err := b.Auth.SetDisabled(ctx, "rm_a", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Auth.Authenticate(ctx, token); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("token of a disabled user: %v", err)
		}
		if _, _, _, err := b.Auth.Login(ctx, "rm_a", testkit.Password, "", ""); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("login of a disabled user: %v", err)
		}
		// A new password works, the old does not.
		if err := b.Auth.SetPassword(ctx, "teller_a", "short"); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("short password accepted: %v", err)
		}
		if err := b.Auth.SetPassword(ctx, "teller_a", "A-new-pass-2026"); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := b.Auth.Login(ctx, "teller_a", testkit.Password, "", ""); err == nil {
			t.Error("old password still works")
		}
		if _, _, _, err := b.Auth.Login(ctx, "teller_a", "A-new-pass-2026", "", ""); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}

func TestAddUserValidation(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	_, err := b.Auth.AddUser(b.As("admin"), auth.NewUser{Username: "a b", Password: "x", Role: "king", OrgID: 9999})
	fields := map[string]bool{}
	for _, f := range kehu.ErrorFields(err) {
		fields[f.Field] = true
	}
	for _, f := range []string{"username", "password", "role", "org"} {
		if !fields[f] {
			t.Errorf("AddUser error does not name %s: %v", f, err)
		}
	}
	_, err = b.Auth.AddUser(b.As("admin"), auth.NewUser{Username: "rm_a", Password: testkit.Password, Role: "teller", OrgID: b.OutletA.ID})
	if kehu.ErrorCode(err) != kehu.ECONFLICT {
		t.Errorf("duplicate username: %v", err)
	}
}
