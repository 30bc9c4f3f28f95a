package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// LeaseIDs returns the lease ids of the jit_ roles that exist and are
// tagged with this issuer's lease store, sorted. Sweep revokes those
// whose lease is no longer open (orphans of a crash between creating the
// role and recording the lease); roles of another store never appear.
func (i *Issuer) LeaseIDs(ctx context.Context) ([]string, error) {
	conn, err := i.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT rolname, coalesce(shobj_description(oid, 'pg_authid'), '')
		FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname`, RolePrefix)
	if err != nil {
		return nil, fmt.Errorf("postgres issuer: listing roles: %w", err)
	}
	type tagged struct{ name, comment string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tagged, error) {
		var t tagged
		return t, r.Scan(&t.name, &t.comment)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres issuer: listing roles: %w", err)
	}
	var ids []string
	for _, t := range all {
		rest, ok := strings.CutPrefix(t.comment, "jit-policy lease ")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, " ")
		if name, err := RoleName(id); err != nil || name != t.name || t.comment != i.comment(id) {
			continue
		}
		ids = append(ids, id)
	}
	return ids, nil
}
