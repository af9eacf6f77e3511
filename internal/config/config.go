// Package config turns flags, KEHU_* environment variables and *_FILE secret
// files into typed settings. Precedence: a flag on the command line, then the
// environment, then the built-in default. Nothing here is global: each command
// builds its own FlagSet.
package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// DefaultDBURL is the embedded database used when nothing else is configured.
const DefaultDBURL = "sqlite:data/kehu.db"

// EnvName returns the environment variable for a flag: "demo-customers"
// becomes KEHU_DEMO_CUSTOMERS.
func EnvName(flagName string) string {
	return "KEHU_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ApplyEnv fills every flag of fs that was not given on the command line from
// its KEHU_* variable, or from the file named by KEHU_*_FILE (for secrets such
// as passwords, which should not sit in the environment of every process).
// Call it after fs.Parse.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		name := EnvName(f.Name)
		v, ok := getenv(name), false
		if v != "" {
			ok = true
		} else if path := getenv(name + "_FILE"); path != "" {
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				err = fmt.Errorf("%s_FILE: %w", name, rerr)
				return
			}
			v, ok = strings.TrimRight(string(b), "\r\n"), true
		}
		if ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, serr)
			}
		}
	})
	return err
}
