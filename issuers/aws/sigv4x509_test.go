package aws

import (
	"net/http"
	"net/url"
	"testing"
)

// TestX509CanonicalRequestSpaces checks header values are trimmed and runs
// of spaces collapsed, as the credential helper does.
func TestX509CanonicalRequestSpaces(t *testing.T) {
	h := http.Header{"X-B": {"  a   b  "}, "X-A": {"1", "2"}, "User-Agent": {"not signed"}}
	cr, signed := x509CanonicalRequest("POST", "/sessions", url.Values{"k": {"a b"}}, h, "HASH")
	want := "POST\n/sessions\nk=a%20b\nx-a:1,2\nx-b:a b\n\nx-a;x-b\nHASH"
	if cr != want || signed != "x-a;x-b" {
		t.Fatalf("canonical request\n%q\nwant\n%q (signed %q)", cr, want, signed)
	}
}
