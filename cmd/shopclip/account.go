package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
)

// runAccount implements `shopclip account create`: it records an account and
// prints a new API key on stdout (only its hash is stored).
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: shopclip account create --role creator|brand|admin --name NAME [--data DIR]")
	}
	fs := flag.NewFlagSet("shopclip account create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "creator, brand or admin")
	name := fs.String("name", "", "the account's display name")
	data := fs.String("data", "", "data directory (default ~/.local/share/shopclip)")
	config := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg, err := configFromFlags(*config, "", *data)
	if err != nil {
		return err
	}
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: *name, Role: shopclip.Role(*role)}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%s", shopclip.ErrorMessage(err))
	}
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	key, hash := shopclip.NewAPIKey()
	if err := db.CreateAccount(ctx, a); err != nil {
		return err
	}
	if err := db.CreateAPIKey(ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Hash: hash}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created %s account %q (%s); its API key follows on stdout and is shown only once\n", a.Role, a.Name, a.ID)
	fmt.Fprintln(stdout, key)
	return nil
}
