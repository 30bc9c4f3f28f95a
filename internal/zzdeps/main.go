// Package zzdeps pins modules that code in progress is about to import.
package zzdeps

import (
	_ "github.com/google/go-github/v60/github"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
)
