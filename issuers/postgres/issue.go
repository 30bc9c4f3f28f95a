package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// leaseIDPattern is what a lease id must start with: 12 lowercase hex
// digits, which name the role.
var leaseIDPattern = regexp.MustCompile(`^[0-9a-f]{12}[0-9a-f]*$`)

// RoleName returns the role name of a lease: jit_ and the first 12 hex
// digits of its id. Ids that are not lowercase hex are refused.
func RoleName(leaseID string) (string, error) {
	if len(leaseID) > 128 || !leaseIDPattern.MatchString(leaseID) {
		return "", errors.New("postgres issuer: the lease id is not at least 12 lowercase hex digits")
	}
	return RolePrefix + leaseID[:12], nil
}

// comment is the COMMENT ON ROLE text that ties a role to its lease.
func (i *Issuer) comment(leaseID string) string {
	return "jit-policy lease " + leaseID + " store " + i.storeTag
}

// Issue creates the login role of req.Lease in one transaction and returns
// its outputs: lease-id, expires-at, host, port, database (the role's first
// configured database, else the dsn's), username, password (secret) and
// database-url (secret). The TTL is clamped to the issuer's, the role's
// and the grant's max_ttl, and to the lease's expiry when set.
func (i *Issuer) Issue(ctx context.Context, req issuers.Request) (issuers.Credential, error) {
	r, ok := i.roles[req.Lease.Role]
	if !ok {
		return issuers.Credential{}, fmt.Errorf("postgres issuer: role %s: no such role in issuers.postgres.roles", req.Lease.Role)
	}
	name, err := RoleName(req.Lease.ID)
	if err != nil {
		return issuers.Credential{}, err
	}
	expires, err := i.expiry(req, r)
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("postgres issuer, role %s: %w", req.Lease.Role, err)
	}
	password := newPassword()
	verifier, err := scramVerifier(password)
	if err != nil {
		return issuers.Credential{}, err
	}
	create, err := createStatement(name, r, expires, verifier)
	if err != nil {
		return issuers.Credential{}, err
	}
	conn, err := i.connect(ctx, "")
	if err != nil {
		return issuers.Credential{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, create); err != nil {
			return fmt.Errorf("creating role %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, "COMMENT ON ROLE "+ident(name)+" IS "+quoteLiteral(i.comment(req.Lease.ID))); err != nil {
			return fmt.Errorf("commenting role %s: %w", name, err)
		}
		// Concurrent grants (and DROP OWNED) rewrite the same pg_database
		// ACL rows, which PostgreSQL refuses with "tuple concurrently
		// updated": take turns.
		if len(r.databases) > 0 {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", aclLockKey); err != nil {
				return fmt.Errorf("waiting for the database ACL lock: %w", err)
			}
		}
		for _, db := range r.databases {
			var can bool
			if err := tx.QueryRow(ctx, `SELECT has_database_privilege($1, $2, 'CONNECT')`, name, db).Scan(&can); err != nil {
				return fmt.Errorf("database %q: %w", db, err)
			}
			if !can {
				if _, err := tx.Exec(ctx, "GRANT CONNECT ON DATABASE "+ident(db)+" TO "+ident(name)); err != nil {
					return fmt.Errorf("granting CONNECT on database %q: %w", db, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("postgres issuer, role %s: %w", req.Lease.Role, err)
	}
	outs := i.outputs(req.Lease.ID, name, password, r, expires)
	return issuers.Credential{Identity: lease.Credential{RoleName: name}, ExpiresAt: expires, Outputs: outs}, nil
}

// createStatement builds CREATE ROLE. Names are quoted identifiers; the
// expiry and verifier are checked to hold no quoting characters.
func createStatement(name string, r *role, expires time.Time, verifier string) (string, error) {
	until, err := plainLiteral("expiry", expires.UTC().Format("2006-01-02 15:04:05+00"))
	if err != nil {
		return "", err
	}
	pw, err := plainLiteral("SCRAM verifier", verifier)
	if err != nil {
		return "", err
	}
	sql := "CREATE ROLE " + ident(name) + " LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS" +
		" CONNECTION LIMIT " + strconv.Itoa(r.connLimit) + " VALID UNTIL " + until + " PASSWORD " + pw + " IN ROLE "
	for k, g := range r.grants {
		if k > 0 {
			sql += ", "
		}
		sql += ident(g)
	}
	return sql, nil
}

// expiry clamps the TTL as the ssh issuer does and returns the role's
// VALID UNTIL, whole seconds, never after the lease's ExpiresAt.
func (i *Issuer) expiry(req issuers.Request, r *role) (time.Time, error) {
	var grantSeconds *int64
	if req.Grant != nil {
		grantSeconds = req.Grant.MaxTTLSeconds
	}
	ttl, err := issuers.ClampTTL(req.TTL, grantSeconds, r.maxTTL, i.maxTTL)
	if err != nil {
		return time.Time{}, err
	}
	now := req.Now
	if now.IsZero() {
		return time.Time{}, errors.New("the request has no issue time")
	}
	exp := now.Add(ttl)
	if !req.Lease.ExpiresAt.IsZero() && req.Lease.ExpiresAt.Before(exp) {
		exp = req.Lease.ExpiresAt
	}
	exp = time.Unix(exp.Unix(), 0).UTC()
	if !exp.After(now) {
		return time.Time{}, fmt.Errorf("ttl %v is shorter than a second", exp.Sub(now))
	}
	return exp, nil
}

// outputs lists the credential's outputs (DESIGN.md, "Outputs").
func (i *Issuer) outputs(leaseID, user, password string, r *role, expires time.Time) []issuers.Output {
	db := i.admin.Database
	if len(r.databases) > 0 {
		db = r.databases[0]
	}
	host, port := i.admin.Host, strconv.Itoa(int(i.admin.Port))
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: net.JoinHostPort(host, port), Path: "/" + db}
	if len(host) > 0 && host[0] == '/' { // a socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {host}, "port": {port}}.Encode()
	}
	return []issuers.Output{
		{Name: issuers.OutputLeaseID, Value: leaseID},
		{Name: issuers.OutputExpiresAt, Value: expires.Format(time.RFC3339)},
		{Name: OutputHost, Value: host},
		{Name: OutputPort, Value: port},
		{Name: OutputDatabase, Value: db},
		{Name: OutputUsername, Value: user},
		{Name: OutputPassword, Value: password, Secret: true},
		{Name: OutputDatabaseURL, Value: u.String(), Secret: true},
	}
}
