package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/event/eventtest"
	"github.com/jit-policy/jit-policy/internal/seal/sealtest"
)

// TestCheckSealsPostgresPassword: an approved PostgreSQL request is
// issued with its password sealed (age) to the requester's GitHub SSH key;
// the comment holds no password in clear; the requester's private key
// decrypts it, and it logs in to the real server.
func TestCheckSealsPostgresPassword(t *testing.T) {
	dbName := ordersDatabase(t, "pr", 2)

	e := newPREnv(t)
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	pg := fmt.Sprintf("  postgres:\n    dsn: ${JIT_PG_DSN}\n    owner: pr_owner\n    max_ttl: 1h\n    roles:\n      orders: {grants: [pr_reader], databases: [%q]}\n", dbName)
	mustWrite(t, e.config, strings.Replace(string(cfg), "pull_requests:\n", pg+"pull_requests:\n", 1))

	// The requester's key on GitHub; the private half stays here.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	e.gh.SetUserKeys(prAuthor, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))))
	e.request(t, "orders.yaml", "version: jit-policy/v1\nrequester: "+prAuthor+"\nreason: \"INC-77: reconcile orders\"\nduration: 30m\naccess:\n  - issuer: postgres\n    role: orders\n")

	code, _, errOut := e.check(t, event.PullRequestTarget, eventtest.PullRequestOpened, e.workflowToken(t, "refs/heads/master"))
	if code != 0 {
		t.Fatalf("check --issue: exit %d\n%s\n%s", code, errOut, e.comment(t))
	}
	comment := e.comment(t)
	start := strings.Index(comment, armor.Header)
	end := strings.Index(comment, armor.Footer)
	if start < 0 || end < start {
		t.Fatalf("no sealed message in the comment:\n%s", comment)
	}
	id, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(comment[start:end+len(armor.Footer)]+"\n")), id)
	if err != nil {
		t.Fatalf("decrypting with the requester's key: %v", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := sealtest.ParseOutputs(string(plain))
	if err != nil {
		t.Fatalf("parsing the sealed outputs: %v\n%s", err, plain)
	}
	var dsn, password string
	for _, o := range outs {
		switch o.Name {
		case "database-url":
			dsn = o.Value
		case "password":
			password = o.Value
		}
	}
	if dsn == "" || password == "" {
		t.Fatalf("sealed outputs lack database-url or password: %v", outs)
	}
	if strings.Contains(comment, password) {
		t.Fatal("the comment holds the password in clear")
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("logging in with the decrypted credentials: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("SELECT as the issued role: %d, %v", n, err)
	}
}
