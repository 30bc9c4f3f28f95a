// Package postgres issues short-lived PostgreSQL login roles and revokes
// them together with their sessions and objects (DESIGN.md, "Outputs" and
// "Leases").
//
// A lease becomes a role jit_<first 12 hex digits of the lease id>: LOGIN,
// INHERIT, IN ROLE the role's configured groups, CONNECTION LIMIT, VALID
// UNTIL the lease's expiry, and a COMMENT naming the lease and the lease
// store. Its password is random and reaches the server only as a
// SCRAM-SHA-256 verifier computed here, so no statement log holds it.
// Revoking sets NOLOGIN, terminates the role's sessions, reassigns what it
// owns to the configured owner and drops its privileges in every database
// where it holds any (pg_shdepend), then drops the role. VALID UNTIL stays
// the backstop when revocation never runs.
//
// The admin (the dsn's user) may be a superuser or, with PostgreSQL 15
// semantics, a role with CREATEROLE that also has:
//   - membership in owner (REASSIGN OWNED needs the privileges of both
//     roles), and ADMIN OPTION on each configured group role (needed from
//     PostgreSQL 16 on; CREATEROLE suffices on 15 for non-superuser groups);
//   - CONNECT on every configured database and on every database where
//     issued roles may create objects (REASSIGN/DROP OWNED run there);
//   - pg_signal_backend, or membership in the issued roles, which it grants
//     itself on revoke (GRANT role TO CURRENT_USER) so that
//     pg_terminate_backend, REASSIGN OWNED and DROP OWNED are allowed;
//   - the grant option on CONNECT for configured databases that PUBLIC
//     may not connect to (the issued role gets CONNECT only where needed);
//   - CREATE WITH GRANT OPTION on every schema where issued roles may
//     create objects: a non-superuser's REASSIGN OWNED of a function, type
//     and the like needs the new owner to have CREATE on its schema, so
//     Revoke lends it to the owner inside the REASSIGN transaction and
//     revokes it before commit. A schema an issued role created itself
//     would need the owner to have CREATE on the database: Revoke then
//     fails with such an admin (the role stays NOLOGIN, sessions ended), so
//     do not let issued roles create schemas.
//
// The owner must be a NOLOGIN role that is neither superuser nor CREATEROLE,
// CREATEDB, REPLICATION or BYPASSRLS, member of no role, and holding no
// granted privileges: New refuses any other. Objects an issued role made (a
// SECURITY DEFINER function, a view granted to PUBLIC) then act with the
// rights of a role that has none.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/issuers"
)

// Output names of the postgres issuer, besides issuers.OutputLeaseID and
// issuers.OutputExpiresAt.
const (
	OutputHost        = "host"
	OutputPort        = "port"
	OutputDatabase    = "database"
	OutputUsername    = "username"
	OutputPassword    = "password"     // secret
	OutputDatabaseURL = "database-url" // secret: holds the password
)

// RolePrefix starts the name of every role the issuer creates.
const RolePrefix = "jit_"

// Issuer creates and drops PostgreSQL login roles. It is safe for
// concurrent use; every operation opens its own admin connections.
type Issuer struct {
	admin    *pgx.ConnConfig // parsed dsn; copied per connection
	owner    string
	storeTag string
	maxTTL   time.Duration
	roles    map[string]*role
}

// role is one configured role, checked.
type role struct {
	grants    []string
	databases []string
	connLimit int // -1: no limit
	maxTTL    time.Duration
}

var _ issuers.Issuer = (*Issuer)(nil)

// New checks cfg, connects with its dsn and checks the owner (see the
// package documentation); it refuses an owner that can log in, has
// attributes, memberships or granted privileges. storeTag names the lease
// store in each role's comment; it must not be empty.
func New(ctx context.Context, cfg *config.PostgresIssuer, storeTag string) (*Issuer, error) {
	if cfg == nil {
		return nil, errors.New("postgres issuer: not configured")
	}
	if storeTag == "" {
		return nil, errors.New("postgres issuer: empty lease store tag")
	}
	if err := checkText("lease store tag", storeTag); err != nil {
		return nil, fmt.Errorf("postgres issuer: %w", err)
	}
	if cfg.DSN == "" {
		return nil, errors.New("postgres issuer: dsn is empty")
	}
	admin, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, errors.New("postgres issuer: dsn does not parse") // the error may quote the password
	}
	if err := checkIdentifier("owner", cfg.Owner); err != nil {
		return nil, fmt.Errorf("postgres issuer: %w", err)
	}
	if cfg.MaxTTL.Duration <= 0 {
		return nil, errors.New("postgres issuer: max_ttl must be positive")
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("postgres issuer: no roles")
	}
	i := &Issuer{admin: admin, owner: cfg.Owner, storeTag: storeTag, maxTTL: cfg.MaxTTL.Duration, roles: map[string]*role{}}
	for _, name := range slices.Sorted(maps.Keys(cfg.Roles)) {
		r, err := compileRole(cfg.Roles[name], cfg.Owner)
		if err != nil {
			return nil, fmt.Errorf("postgres issuer: role %s: %w", name, err)
		}
		i.roles[name] = r
	}
	conn, err := i.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := checkOwner(ctx, conn, cfg.Owner); err != nil {
		return nil, fmt.Errorf("postgres issuer: owner %q: %w", cfg.Owner, err)
	}
	return i, nil
}

func compileRole(c config.PostgresRole, owner string) (*role, error) {
	if len(c.Grants) == 0 {
		return nil, errors.New("grants is empty")
	}
	for _, g := range c.Grants {
		if err := checkIdentifier("grant", g); err != nil {
			return nil, err
		}
		if g == owner {
			return nil, fmt.Errorf("grant %q is the owner", g)
		}
	}
	for _, d := range c.Databases {
		if err := checkIdentifier("database", d); err != nil {
			return nil, err
		}
	}
	if c.ConnectionLimit < 0 {
		return nil, fmt.Errorf("connection_limit %d is negative", c.ConnectionLimit)
	}
	if c.MaxTTL.Duration < 0 {
		return nil, errors.New("max_ttl is negative")
	}
	r := &role{grants: slices.Clone(c.Grants), databases: slices.Clone(c.Databases), connLimit: c.ConnectionLimit, maxTTL: c.MaxTTL.Duration}
	if r.connLimit == 0 {
		r.connLimit = -1
	}
	return r, nil
}

// checkOwner refuses an owner that is missing, can log in, has any
// attribute beyond the defaults, is a member of any role or holds any
// privilege granted to it (a pg_shdepend ACL entry, in any database).
func checkOwner(ctx context.Context, conn *pgx.Conn, owner string) error {
	var login, super, createRole, createDB, repl, bypass bool
	var memberships, grants int
	err := conn.QueryRow(ctx, `SELECT r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
			r.rolreplication, r.rolbypassrls,
			(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid),
			(SELECT count(*) FROM pg_shdepend s WHERE s.refclassid = 'pg_authid'::regclass
				AND s.refobjid = r.oid AND s.deptype = 'a')
		FROM pg_roles r WHERE r.rolname = $1`, owner).
		Scan(&login, &super, &createRole, &createDB, &repl, &bypass, &memberships, &grants)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errors.New("no such role")
	case err != nil:
		return err
	case login:
		return errors.New("can log in; it must be NOLOGIN")
	case super || createRole || createDB || repl || bypass:
		return errors.New("has SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS; it must have none")
	case memberships > 0:
		return fmt.Errorf("is a member of %d role(s); it must be a member of none", memberships)
	case grants > 0:
		return fmt.Errorf("holds %d granted privilege(s); it must hold none", grants)
	}
	return nil
}

// connect opens an admin connection to database db, or the dsn's database
// when db is empty. Errors never quote the dsn.
func (i *Issuer) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	c := i.admin.Copy()
	if db != "" {
		c.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("postgres issuer: connecting as %q to database %q: %w", c.User, c.Database, err)
	}
	return conn, nil
}
