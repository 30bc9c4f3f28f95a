package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Revoke removes the lease's role: NOLOGIN, its sessions terminated, what
// it owns reassigned to the owner and its privileges dropped in every
// database where pg_shdepend says it holds any (and the configured ones),
// then DROP ROLE. A role already gone is success. A role whose comment does
// not name this lease and store is refused, never dropped.
func (i *Issuer) Revoke(ctx context.Context, l lease.Lease) error {
	name, err := RoleName(l.ID)
	if err != nil {
		return err
	}
	if l.Credential.RoleName != "" && l.Credential.RoleName != name {
		return fmt.Errorf("postgres issuer: lease %s records role %q, want %q", l.ID, l.Credential.RoleName, name)
	}
	conn, err := i.connect(ctx, "")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var comment *string
	var member bool
	err = conn.QueryRow(ctx, `SELECT shobj_description(r.oid, 'pg_authid'), pg_has_role(current_user, r.oid, 'USAGE')
		FROM pg_roles r WHERE r.rolname = $1`, name).Scan(&comment, &member)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres issuer: looking up role %s: %w", name, err)
	}
	if comment == nil || *comment != i.comment(l.ID) {
		return fmt.Errorf("postgres issuer: role %s is not tagged as lease %s of this store; not dropping it", name, l.ID)
	}
	q := ident(name)
	steps := []string{"ALTER ROLE " + q + " NOLOGIN"}
	if !member { // a CREATEROLE admin needs the role's privileges for what follows
		steps = append(steps, "GRANT "+q+" TO CURRENT_USER")
	}
	for _, sql := range steps {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("postgres issuer: %s: %w", sql, err)
		}
	}
	if err := terminate(ctx, conn, name); err != nil {
		return err
	}
	dbs, err := i.databasesOf(ctx, conn, name, l.Role)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if err := i.dropOwned(ctx, db, name); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+q); err != nil {
		return fmt.Errorf("postgres issuer: dropping role %s: %w", name, err)
	}
	return nil
}

// terminate ends the role's sessions, waiting up to 5 s for each, and
// checks again until none remain (a login that passed authentication just
// before NOLOGIN shows up late).
func terminate(ctx context.Context, conn *pgx.Conn, name string) error {
	for try := 0; ; try++ {
		var left int
		err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid, 5000))
			FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, name).Scan(&left)
		if err != nil {
			return fmt.Errorf("postgres issuer: terminating the sessions of %s: %w", name, err)
		}
		var alive int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, name).Scan(&alive); err != nil {
			return fmt.Errorf("postgres issuer: counting the sessions of %s: %w", name, err)
		}
		if alive == 0 {
			return nil
		}
		if try == 10 {
			return fmt.Errorf("postgres issuer: %d session(s) of %s survive termination", alive, name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// databasesOf lists the databases where the role owns objects or holds
// privileges (pg_shdepend), the admin's database and the lease role's
// configured ones that exist, without duplicates.
func (i *Issuer) databasesOf(ctx context.Context, conn *pgx.Conn, name, leaseRole string) ([]string, error) {
	var configured []string
	if r, ok := i.roles[leaseRole]; ok {
		configured = r.databases
	}
	rows, err := conn.Query(ctx, `SELECT d.datname FROM pg_database d
		WHERE d.oid IN (SELECT s.dbid FROM pg_shdepend s
				WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1))
			OR d.datname = current_database() OR d.datname = ANY($2)
		ORDER BY d.datname = current_database() DESC, d.datname`, name, configured)
	if err != nil {
		return nil, fmt.Errorf("postgres issuer: listing the databases of %s: %w", name, err)
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres issuer: listing the databases of %s: %w", name, err)
	}
	return slices.Compact(dbs), nil
}

// dropOwned reassigns the role's objects in database db to the owner and
// drops its privileges there.
func (i *Issuer) dropOwned(ctx context.Context, db, name string) error {
	conn, err := i.connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", aclLockKey); err != nil {
			return fmt.Errorf("waiting for the database ACL lock: %w", err)
		}
		schemas, err := i.lendCreate(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "REASSIGN OWNED BY "+ident(name)+" TO "+ident(i.owner)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DROP OWNED BY "+ident(name)); err != nil {
			return err
		}
		for _, s := range schemas {
			if _, err := tx.Exec(ctx, "REVOKE CREATE ON SCHEMA "+ident(s)+" FROM "+ident(i.owner)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres issuer: reassigning and dropping what %s owns in database %q: %w", name, db, err)
	}
	return nil
}

// ownedSchemas lists the schemas that hold objects of the role $1 whose
// owner check on ALTER … OWNER wants CREATE on the schema, and where the
// owner $2 lacks it.
const ownedSchemas = `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
	ns AS (
		SELECT relnamespace AS n FROM pg_class WHERE relowner = (SELECT oid FROM r)
		UNION SELECT pronamespace FROM pg_proc WHERE proowner = (SELECT oid FROM r)
		UNION SELECT typnamespace FROM pg_type WHERE typowner = (SELECT oid FROM r)
		UNION SELECT collnamespace FROM pg_collation WHERE collowner = (SELECT oid FROM r)
		UNION SELECT connamespace FROM pg_conversion WHERE conowner = (SELECT oid FROM r)
		UNION SELECT oprnamespace FROM pg_operator WHERE oprowner = (SELECT oid FROM r)
		UNION SELECT opfnamespace FROM pg_opfamily WHERE opfowner = (SELECT oid FROM r)
		UNION SELECT opcnamespace FROM pg_opclass WHERE opcowner = (SELECT oid FROM r)
		UNION SELECT dictnamespace FROM pg_ts_dict WHERE dictowner = (SELECT oid FROM r)
		UNION SELECT cfgnamespace FROM pg_ts_config WHERE cfgowner = (SELECT oid FROM r)
		UNION SELECT stxnamespace FROM pg_statistic_ext WHERE stxowner = (SELECT oid FROM r))
	SELECT nspname FROM pg_namespace WHERE oid IN (SELECT n FROM ns)
		AND NOT has_schema_privilege($2, oid, 'CREATE') ORDER BY nspname`

// lendCreate, for an admin that is no superuser, grants the owner CREATE
// on the schemas where REASSIGN OWNED needs it (PostgreSQL checks it when
// a non-superuser gives away functions, types and the like) and returns
// them; the caller revokes it in the same transaction, so the owner never
// visibly holds it. The admin needs CREATE WITH GRANT OPTION there.
func (i *Issuer) lendCreate(ctx context.Context, tx pgx.Tx, name string) ([]string, error) {
	var super bool
	if err := tx.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || super {
		return nil, err
	}
	rows, err := tx.Query(ctx, ownedSchemas, name, i.owner)
	if err != nil {
		return nil, err
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, s := range schemas {
		if _, err := tx.Exec(ctx, "GRANT CREATE ON SCHEMA "+ident(s)+" TO "+ident(i.owner)); err != nil {
			return nil, fmt.Errorf("lending CREATE on schema %q to the owner: %w", s, err)
		}
	}
	return schemas, nil
}

// aclLockKey is the advisory lock that serialises jit-policy's changes to
// shared catalog ACLs (GRANT CONNECT, DROP OWNED) across processes.
const aclLockKey int64 = 0x6a69745f61636c // "jit_acl"
