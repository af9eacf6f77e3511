package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/vault"
)

// keyFileName is the key file kept next to a SQLite database when no keys
// are configured: zero-setup development and demos. Production configures
// its keys (docs/SECURITY.md).
const keyFileName = "kehu.keys"

// keysFlag registers --keys-file on a command that reads customer data.
func keysFlag(fs *flag.FlagSet) *string {
	return fs.String("keys-file", "", "encryption key file (mode 0600); or put the keys themselves in KEHU_KEYS. "+
		"Default for SQLite: "+keyFileName+" next to the database")
}

// openKeyedDB opens the database with its encryption keys, refuses keys that
// do not match the ones its data was sealed with (before migrating, so a
// refusal changes nothing), migrates, and records the keys. With generate,
// a SQLite database without configured keys gets a new key file beside it;
// note says so.
func openKeyedDB(ctx context.Context, e env, dbURL, keysFile string, generate bool, note func(string)) (*store.DB, error) {
	keys, genPath, genText, err := resolveKeys(e, dbURL, keysFile, generate)
	if err != nil {
		return nil, err
	}
	db, err := store.OpenWith(ctx, dbURL, store.Options{Keys: keys})
	if err != nil {
		return nil, err
	}
	if err := db.CheckKeys(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if genPath != "" {
		if err := vault.WriteKeyFile(genPath, genText); err != nil {
			db.Close()
			return nil, err
		}
		note(fmt.Sprintf("no encryption keys were configured: generated %s (mode 0600). Back it up: without it the "+
			"encrypted customer data cannot be read. Production must provide its own keys (docs/SECURITY.md).", genPath))
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.RegisterKeys(ctx, time.Now()); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// resolveKeys finds the keys: --keys-file (or KEHU_KEYS_FILE), then
// KEHU_KEYS, then kehu.keys beside a SQLite database. When none exists and
// generate is set it returns new keys with the path and text of the file to
// write once the database has accepted them.
func resolveKeys(e env, dbURL, keysFile string, generate bool) (*vault.Keyring, string, string, error) {
	if keysFile != "" {
		k, err := vault.LoadKeyFile(keysFile)
		return k, "", "", err
	}
	if text := e.getenv("KEHU_KEYS"); text != "" {
		k, err := vault.ParseKeys(text)
		if err != nil {
			return nil, "", "", fmt.Errorf("KEHU_KEYS: %w", err)
		}
		return k, "", "", nil
	}
	dbPath, sqlite := strings.CutPrefix(dbURL, "sqlite:")
	if !sqlite {
		return nil, "", "", kehu.Errorf(kehu.EINVALID, "no encryption keys configured: set KEHU_KEYS or --keys-file "+
			"(keys are generated automatically only next to a SQLite database)")
	}
	path := filepath.Join(filepath.Dir(dbPath), keyFileName)
	if _, err := os.Stat(path); err == nil {
		k, err := vault.LoadKeyFile(path)
		return k, "", "", err
	}
	if !generate {
		return nil, "", "", kehu.Errorf(kehu.EINVALID, "no encryption keys configured and no %s: set KEHU_KEYS or --keys-file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, "", "", fmt.Errorf("key file directory: %w", err)
	}
	text, k, err := vault.NewKeyFile(vault.SuiteAES, time.Now())
	return k, path, text, err
}

// runKeys is `kehu keys generate|rotate`.
func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{"keys: want generate or rotate"}
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "generate":
		return runKeysGenerate(e, rest)
	case "rotate":
		return runKeysRotate(ctx, e, rest)
	default:
		return usageError{fmt.Sprintf("keys: unknown subcommand %q (want generate or rotate)", sub)}
	}
}

// runKeysGenerate prints one new key line for a key file.
func runKeysGenerate(e env, args []string) error {
	fs := flags(e, "keys generate")
	suite := fs.String("suite", vault.SuiteAES, "aes (AES-256-GCM, HMAC-SHA-256) or sm (SM4-GCM, HMAC-SM3)")
	purpose := fs.String("purpose", string(vault.Active), "active (new data key), data (old key) or index (blind index; once per database)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	line, err := vault.GenerateKeyLine(*suite, vault.Purpose(*purpose), time.Now())
	if err != nil {
		return usageError{"keys generate: " + err.Error()}
	}
	fmt.Fprintln(e.stdout, line)
	return nil
}

// runKeysRotate re-encrypts every value under the active key. It is safe
// to run while servers are up (they must already use the new key file) and
// to run again after a kill: it continues from its saved position.
func runKeysRotate(ctx context.Context, e env, args []string) error {
	fs := flags(e, "keys rotate")
	dbURL := dbFlag(fs)
	keysFile := keysFlag(fs)
	batch := fs.Int("batch", 500, "rows per transaction")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	db, err := openKeyedDB(ctx, e, *dbURL, *keysFile, false, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stderr, "re-encrypting under key %s...\n", db.Keys().ActiveKeyID())
	last := time.Time{}
	res, err := db.RotateKeys(ctx, store.RotateOptions{Batch: *batch, Progress: func(table string, lastID, rewritten int64) {
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			fmt.Fprintf(e.stderr, "  %s: up to id %d, %d rows re-encrypted\n", table, lastID, rewritten)
		}
	}})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("rotation interrupted; run it again to continue: %w", err)
		}
		return err
	}
	for _, t := range []string{"customers", "accounts"} {
		fmt.Fprintf(e.stdout, "%s: %d rows re-encrypted\n", t, res.Rewritten[t])
	}
	if len(res.Retired) > 0 {
		fmt.Fprintf(e.stdout, "retired keys (no value uses them; they may leave the key file): %s\n", strings.Join(res.Retired, ", "))
	}
	fmt.Fprintf(e.stdout, "every value is under key %s\n", db.Keys().ActiveKeyID())
	return nil
}
