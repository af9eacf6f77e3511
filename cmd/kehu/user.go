package main

import (
	"context"
	"fmt"
	"os/user"
	"strings"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/store"
)

// runUser manages users from the server's shell: the way in for the first
// administrator and for an operator who must lock an account at once.
func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{"user: want add, passwd, disable, enable or reset-totp"}
	}
	sub, rest := args[0], args[1:]
	fs := flags(e, "user "+sub)
	dbURL := dbFlag(fs)
	username := fs.String("username", "", "login name")
	var password, role, display *string
	var orgID *int64
	switch sub {
	case "add":
		password = fs.String("password", "", "initial password (or KEHU_PASSWORD_FILE)")
		role = fs.String("role", "", "role: "+strings.Join(access.Roles, ", "))
		orgID = fs.Int64("org", 0, "organisation id the user belongs to")
		display = fs.String("name", "", "display name (defaults to the username)")
	case "passwd":
		password = fs.String("password", "", "new password (or KEHU_PASSWORD_FILE)")
	case "disable", "enable", "reset-totp":
	default:
		return usageError{fmt.Sprintf("user: unknown subcommand %q (want add, passwd, disable, enable or reset-totp)", sub)}
	}
	if err := parse(e, fs, rest); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"user " + sub + ": --username is required"}
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := operatorAuth(db)
	if err != nil {
		return err
	}
	ctx = operatorContext(ctx)
	switch sub {
	case "add":
		name := *display
		if name == "" {
			name = *username
		}
		u, err := svc.AddUser(ctx, auth.NewUser{Username: *username, DisplayName: name, Password: *password,
			Role: *role, OrgID: *orgID})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s added (id %d, role %s, org %d)\n", u.Username, u.ID, u.Role, u.OrgID)
	case "passwd":
		if err := svc.SetPassword(ctx, *username, *password); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; its sessions were ended\n", *username)
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, *username, sub == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s %sd\n", *username, sub)
	case "reset-totp":
		if err := svc.ResetTOTP(ctx, *username); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "second factor of %s removed; its sessions were ended\n", *username)
	}
	return nil
}

// runInit prepares an empty database for a real bank: the head office and
// its first administrator, who then builds the rest through the product.
func runInit(ctx context.Context, e env, args []string) error {
	fs := flags(e, "init")
	dbURL := dbFlag(fs)
	bank := fs.String("bank", "", "name of the bank (the head office)")
	code := fs.String("code", "HO", "code of the head office")
	username := fs.String("username", "admin", "login name of the first administrator")
	password := fs.String("password", "", "password of the first administrator (or KEHU_PASSWORD_FILE)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*bank) == "" {
		return usageError{"init: --bank is required"}
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if n, err := db.Orgs().CountOrgs(ctx); err != nil {
		return err
	} else if n > 0 {
		return kehu.Errorf(kehu.ECONFLICT, "the database already holds a bank (%d organisations); init only prepares an empty one", n)
	}
	svc, err := operatorAuth(db)
	if err != nil {
		return err
	}
	ctx = operatorContext(ctx)
	// Checked before the head office is created, so a refused password
	// leaves the database empty and init can simply be run again.
	if reasons := auth.DefaultPasswordPolicy.Check(*username, *password); len(reasons) > 0 {
		return kehu.Errorf(kehu.EINVALID, "--password: %s", strings.Join(reasons, "; "))
	}
	ho, err := createHeadOffice(ctx, db, *bank, *code)
	if err != nil {
		return err
	}
	u, err := svc.AddUser(ctx, auth.NewUser{Username: *username, DisplayName: *username, Password: *password,
		Role: access.Admin, OrgID: ho.ID})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bank %q created (head office id %d); administrator %s can log in\n", ho.Name, ho.ID, u.Username)
	return nil
}

func createHeadOffice(ctx context.Context, db *store.DB, name, code string) (org.Org, error) {
	return db.Orgs().CreateOrg(ctx, org.Org{Code: code, Name: strings.TrimSpace(name), NameEN: strings.TrimSpace(name),
		Level: org.HeadOffice, CreatedAt: kehu.SystemClock{}.Now()})
}

// operatorAuth is the auth service for commands run at the server: user
// administration from the shell is recorded on the audit trail like any other.
func operatorAuth(db *store.DB) (*auth.Service, error) {
	cfg := auth.DefaultConfig
	cfg.Audit, cfg.Tx = audit.NewLog(db.Audit(), db, kehu.SystemClock{}), db
	return auth.NewService(db.Users(), kehu.SystemClock{}, cfg)
}

// operatorContext names the person at the shell as the actor: "cli:<login>".
func operatorContext(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return kehu.WithActor(ctx, kehu.Actor{Username: "cli:" + name, Role: "operator"})
}
