package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/store"
)

const accountUsage = `usage:
  shopclip account create --role creator|brand|admin --name NAME [--email EMAIL --password-stdin]
  shopclip account reset-password (--email EMAIL | --id ACCOUNT) [--password-stdin]
  shopclip account disable|enable (--email EMAIL | --id ACCOUNT)
  shopclip account invite --role creator|brand|admin [--email EMAIL]
  shopclip account key create --id ACCOUNT [--name NAME]
  shopclip account key revoke --id ACCOUNT --key KEY_ID
  shopclip account key rotate --id ACCOUNT --key KEY_ID
every command takes [--data DIR] [--config FILE]`

// runAccount implements `shopclip account …`, the operator's tools for
// accounts: create one (its API key printed on stdout, only its hash
// stored), reset a password, disable or enable an account, invite someone
// while sign-up is closed, and create, revoke or rotate API keys.
func runAccount(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(accountUsage)
	}
	cmd, args := args[0], args[1:]
	if cmd == "key" {
		if len(args) == 0 {
			return errors.New(accountUsage)
		}
		cmd, args = "key "+args[0], args[1:]
	}
	fs := flag.NewFlagSet("shopclip account "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "creator, brand or admin")
	name := fs.String("name", "", "the account's display name; a key's name")
	email := fs.String("email", "", "the account's email (its sign-in)")
	id := fs.String("id", "", "the account's ID (acc_…)")
	keyID := fs.String("key", "", "an API key's ID (key_…)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	data := fs.String("data", "", "data directory (default ~/.local/share/shopclip)")
	config := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v\n%s", fs.Args(), accountUsage)
	}
	cfg, err := configFromFlags(*config, "", *data)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	t := &accountTool{ctx: ctx, db: db, stdin: stdin, stdout: stdout, stderr: stderr, hasher: &auth.Hasher{}, keys: &auth.Service{Store: db}}
	switch cmd {
	case "create":
		return t.create(shopclip.Role(*role), *name, *email, *fromStdin)
	case "reset-password":
		return t.resetPassword(*id, *email, *fromStdin)
	case "disable", "enable":
		return t.setDisabled(*id, *email, cmd == "disable")
	case "invite":
		return t.invite(shopclip.Role(*role), *email, cfg.PublicURL)
	case "key create":
		return t.createKey(*id, cmp(*name, "created on the command line"))
	case "key revoke":
		return t.revokeKey(*id, *keyID)
	case "key rotate":
		return t.rotateKey(*id, *keyID)
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, accountUsage)
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type accountTool struct {
	ctx            context.Context
	db             *store.DB
	stdin          io.Reader
	stdout, stderr io.Writer
	hasher         *auth.Hasher
	keys           *auth.Service // makes API keys
}

// userError is an error the operator can act on, without the code.
func userError(err error) error {
	if err == nil || shopclip.ErrorCode(err) == shopclip.EINTERNAL {
		return err
	}
	return errors.New(shopclip.ErrorMessage(err))
}

func (t *accountTool) create(role shopclip.Role, name, email string, fromStdin bool) error {
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
	if err := a.Validate(); err != nil {
		return userError(err)
	}
	if email != "" || fromStdin {
		e, err := shopclip.NormalizeEmail(email)
		if err != nil {
			return userError(err)
		}
		password, err := t.password(fromStdin)
		if err != nil {
			return err
		}
		hash, err := t.hasher.Hash(t.ctx, password)
		if err != nil {
			return err
		}
		err = t.db.CreateAccountLogin(t.ctx, a, &shopclip.Login{AccountID: a.ID, Email: e, PasswordHash: hash}, "", time.Now())
		if shopclip.ErrorCode(err) == shopclip.ECONFLICT {
			return fmt.Errorf("an account with the email %s exists", e)
		} else if err != nil {
			return err
		}
	} else if err := t.db.CreateAccount(t.ctx, a); err != nil {
		return err
	}
	key, _, err := t.keys.NewKey(t.ctx, a.ID, "created with the account")
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "created %s account %q (%s); its API key follows on stdout and is shown only once\n", a.Role, a.Name, a.ID)
	fmt.Fprintln(t.stdout, key)
	return nil
}

// password reads a password from stdin's first line, or makes a random one
// (printed by the caller).
func (t *accountTool) password(fromStdin bool) (string, error) {
	if !fromStdin {
		token, _ := shopclip.NewToken("")
		return token[:24], nil
	}
	line, err := bufio.NewReader(t.stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if err := auth.ValidatePassword(password); err != nil {
		return "", userError(err)
	}
	return password, nil
}

// account finds the account an operator names by ID or email.
func (t *accountTool) account(id, email string) (*shopclip.Account, error) {
	switch {
	case id != "" && email != "":
		return nil, errors.New("name the account by --id or by --email, not both")
	case email != "":
		e, err := shopclip.NormalizeEmail(email)
		if err != nil {
			return nil, userError(err)
		}
		l, err := t.db.LoginByEmail(t.ctx, e)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			return nil, fmt.Errorf("no account signs in with %s", e)
		} else if err != nil {
			return nil, err
		}
		id = l.AccountID
	case id == "":
		return nil, errors.New("name the account: --id acc_… or --email …")
	}
	a, err := t.db.Account(t.ctx, id)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil, fmt.Errorf("no account %s", id)
	}
	return a, err
}

func (t *accountTool) resetPassword(id, email string, fromStdin bool) error {
	a, err := t.account(id, email)
	if err != nil {
		return err
	}
	l, err := t.db.LoginOf(t.ctx, a.ID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		if email == "" {
			return fmt.Errorf("account %s has no email to sign in with: give one with --email", a.ID)
		}
		e, _ := shopclip.NormalizeEmail(email)
		l = &shopclip.Login{AccountID: a.ID, Email: e}
	} else if err != nil {
		return err
	}
	password, err := t.password(fromStdin)
	if err != nil {
		return err
	}
	if l.PasswordHash, err = t.hasher.Hash(t.ctx, password); err != nil {
		return err
	}
	if err := t.db.SetLogin(t.ctx, l); err != nil {
		return userError(err)
	}
	if err := t.db.DeleteAccountSessions(t.ctx, a.ID, ""); err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "new password set for %q (%s, %s); every session of the account has ended\n", a.Name, a.ID, l.Email)
	if !fromStdin {
		fmt.Fprintln(t.stdout, password)
	}
	return nil
}

func (t *accountTool) setDisabled(id, email string, disabled bool) error {
	a, err := t.account(id, email)
	if err != nil {
		return err
	}
	if err := t.db.SetAccountDisabled(t.ctx, a.ID, disabled); err != nil {
		return err
	}
	if disabled {
		fmt.Fprintf(t.stderr, "disabled %q (%s): its sessions ended and its API keys stop working until it is enabled again\n", a.Name, a.ID)
	} else {
		fmt.Fprintf(t.stderr, "enabled %q (%s)\n", a.Name, a.ID)
	}
	return nil
}

func (t *accountTool) invite(role shopclip.Role, email, publicURL string) error {
	if !role.Valid() {
		return fmt.Errorf("--role must be creator, brand or admin, not %q", role)
	}
	if email != "" {
		e, err := shopclip.NormalizeEmail(email)
		if err != nil {
			return userError(err)
		}
		email = e
	}
	token, hash := shopclip.NewToken(shopclip.InviteTokenPrefix)
	now := time.Now()
	inv := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: role, Email: email, CreatedAt: now, ExpiresAt: now.Add(shopclip.InviteLifetime)}
	if err := t.db.CreateInvite(t.ctx, inv); err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "an invitation to sign up as a %s, valid until %s; the code follows on stdout (sign-up link: %s/studio/signup?invite=CODE)\n",
		role, inv.ExpiresAt.UTC().Format(time.RFC3339), strings.TrimSuffix(cmp(publicURL, "http://127.0.0.1:8080"), "/"))
	fmt.Fprintln(t.stdout, token)
	return nil
}

func (t *accountTool) createKey(id, name string) error {
	a, err := t.account(id, "")
	if err != nil {
		return err
	}
	key, _, err := t.keys.NewKey(t.ctx, a.ID, name)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(t.stderr, "a new API key for %q (%s); it follows on stdout and is shown only once\n", a.Name, a.ID)
	fmt.Fprintln(t.stdout, key)
	return nil
}

func (t *accountTool) revokeKey(id, keyID string) error {
	if keyID == "" {
		return errors.New("name the key: --key key_…")
	}
	a, err := t.account(id, "")
	if err != nil {
		return err
	}
	err = t.db.RevokeAPIKey(t.ctx, a.ID, keyID, time.Now())
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return fmt.Errorf("account %s has no API key %s", a.ID, keyID)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "revoked API key %s of %q: it stops working at once\n", keyID, a.Name)
	return nil
}

// rotateKey replaces a key: a new one with the same name, printed, and the
// old one revoked.
func (t *accountTool) rotateKey(id, keyID string) error {
	if keyID == "" {
		return errors.New("name the key: --key key_…")
	}
	a, err := t.account(id, "")
	if err != nil {
		return err
	}
	keys, err := t.db.AccountAPIKeys(t.ctx, a.ID)
	if err != nil {
		return err
	}
	var old *shopclip.APIKey
	for _, k := range keys {
		if k.ID == keyID {
			old = k
		}
	}
	if old == nil {
		return fmt.Errorf("account %s has no API key %s", a.ID, keyID)
	}
	key, nk, err := t.keys.NewKey(t.ctx, a.ID, cmp(old.Name, "rotated"))
	if err != nil {
		return err
	}
	if err := t.db.RevokeAPIKey(t.ctx, a.ID, old.ID, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "rotated API key %s of %q: the new key %s follows on stdout (shown only once); the old one is revoked\n", old.ID, a.Name, nk.ID)
	fmt.Fprintln(t.stdout, key)
	return nil
}
