// Package leasesql is what the SQL lease stores (pgstore, sqlitestore) share:
// the columns of a lease row, scanning a row into a lease.Lease, and a
// lease.Filter as a WHERE clause. Each store keeps its own dialect, table
// and statements.
package leasesql
