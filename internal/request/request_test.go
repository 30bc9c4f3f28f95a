package request

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestValidFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Decode(filepath.Base(file), data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := f.Validate(); err != nil {
			t.Fatalf("%s: decoded file does not validate again: %v", file, err)
		}
	}
}

// TestInvalidFiles checks the error text for each testdata/invalid/*.yaml
// against the .golden file next to it: the messages are the user interface.
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Decode(filepath.Base(file), data)
		if err == nil {
			t.Errorf("%s: Decode returned %+v, want an error", file, f)
			continue
		}
		if f.Version != "" || f.Access != nil {
			t.Errorf("%s: Decode returned a file with its error", file)
		}
		got := err.Error() + "\n"
		golden := strings.TrimSuffix(file, ".yaml") + ".golden"
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s (run go test -update to create it): %v", golden, err)
		}
		if got != string(want) {
			t.Errorf("%s: errors differ from %s\ngot:\n%swant:\n%s", file, golden, got, want)
		}
		for line := range strings.SplitSeq(strings.TrimSuffix(got, "\n"), "\n") {
			if !strings.HasPrefix(line, filepath.Base(file)+":") {
				t.Errorf("%s: error line does not name the file: %q", file, line)
			}
		}
	}
}

// TestBillionLaughs asserts that a YAML bomb is refused by the alias bounds,
// before anything is expanded.
func TestBillionLaughs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", "billion-laughs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode("bomb.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "more than 16 aliases") {
		t.Fatalf("Decode(billion laughs) = %v, want the alias-count bound", err)
	}
	if _, ok := errors.AsType[*strictyaml.Error](err); !ok {
		t.Fatalf("error is %T, want *strictyaml.Error", err)
	}
}

// TestAliasExpansionBound asserts the expansion budget: few aliases (under
// the count bound) that each copy a large anchor are refused.
func TestAliasExpansionBound(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", "alias-expansion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "*p"); n > strictyaml.DefaultMaxAliases {
		t.Fatalf("test file has %d aliases, want at most %d so that only the expansion bound applies", n, strictyaml.DefaultMaxAliases)
	}
	_, err = Decode("expand.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than 4096 nodes") {
		t.Fatalf("Decode = %v, want the alias-expansion bound", err)
	}
}

// endless is a reader that would produce size bytes of "a: " lines and
// counts what it gives out.
type endless struct {
	size, read int64
}

func (r *endless) Read(p []byte) (int, error) {
	if r.read >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, r.size-r.read)
	for i := range p[:n] {
		p[i] = "# x\n"[(r.read+int64(i))%4]
	}
	r.read += n
	return int(n), nil
}

// TestReadStopsAtLimit asserts that Read stops after MaxBytes+1 bytes of a
// stream that would go on for gigabytes.
func TestReadStopsAtLimit(t *testing.T) {
	r := &endless{size: 8 << 30}
	_, err := Read("big.yaml", r)
	if err == nil || !strings.Contains(err.Error(), "big.yaml: file is larger than 65536 bytes") {
		t.Fatalf("Read = %v, want the size bound", err)
	}
	if r.read != MaxBytes+1 {
		t.Fatalf("Read consumed %d bytes, want exactly %d", r.read, MaxBytes+1)
	}

	exact := &endless{size: MaxBytes}
	if _, err := Read("exact.yaml", exact); err == nil || strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Read of exactly MaxBytes = %v, want a document error, not the size bound", err)
	}
}

func TestReadValid(t *testing.T) {
	in, err := os.Open(filepath.Join("testdata", "valid", "alice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := Read("alice.yaml", in)
	if err != nil {
		t.Fatal(err)
	}
	if f.Requester != "alice" || f.Duration.Duration != 2*time.Hour || f.Duration.Text != "2h" || len(f.Access) != 1 {
		t.Fatalf("Read = %+v", f)
	}
}

func TestCheckRequester(t *testing.T) {
	f, err := Decode("requests/alice.yaml", []byte("version: jit-policy/v1\n\nrequester: Alice\nduration: 2h\naccess: [{issuer: ssh, role: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		author  string
		wantErr string
	}{
		{"alice", ""},
		{"ALICE", ""},
		{"mallory", `requests/alice.yaml:3: requester: is "Alice" but the pull request is by "mallory"`},
		{"", `requests/alice.yaml:3: requester: is "Alice" but the pull request is by ""`},
		{"alice2", `requests/alice.yaml:3: requester:`},
	}
	for _, tt := range tests {
		err := f.CheckRequester(tt.author)
		if tt.wantErr == "" {
			if err != nil {
				t.Fatalf("CheckRequester(%q) = %v, want nil", tt.author, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Fatalf("CheckRequester(%q) = %v, want %q…", tt.author, err, tt.wantErr)
		}
	}
}

func TestEngineRequest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "valid", "all-issuers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode("all.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	ssh := f.Access[0].EngineRequest(f)
	if ssh.Issuer != "ssh" || ssh.Role != "prod-bastion" || ssh.TTLSeconds != 5400 ||
		!slices.Equal(ssh.Principals, []string{"ubuntu", "deploy"}) || ssh.Reason != f.Reason {
		t.Fatalf("ssh request = %+v", ssh)
	}
	if ssh.Fields["public_key"] != f.Access[0].PublicKey || len(ssh.Fields) != 1 {
		t.Fatalf("ssh fields = %v", ssh.Fields)
	}
	pg := f.Access[1].EngineRequest(f)
	if pg.Fields != nil || pg.Principals != nil || pg.TTLSeconds != 5400 {
		t.Fatalf("postgres request = %+v", pg)
	}
	x := f.Access[3].EngineRequest(f)
	if !strings.HasPrefix(x.Fields["csr"].(string), "-----BEGIN CERTIFICATE REQUEST-----") || len(x.Fields) != 1 {
		t.Fatalf("x509 fields = %v", x.Fields)
	}

	alice, err := os.ReadFile(filepath.Join("..", "..", "examples", "requests", "alice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err = Decode("alice.yaml", alice)
	if err != nil {
		t.Fatalf("example request: %v", err)
	}
	r := f.Access[0].EngineRequest(f)
	if r.Reason != "INC-1234: investigate stuck orders" || r.TTLSeconds != 7200 || r.Issuer != "postgres" {
		t.Fatalf("example request = %+v", r)
	}
}

func TestAgeRecipient(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", true},
		{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8q", false}, // checksum
		{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8", false},  // short
		{"age1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P", false}, // upper case
		{"age1bl3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", false}, // b is not bech32
		{"", false},
	}
	for _, tt := range tests {
		if got := validAgeRecipient(tt.in); got != tt.want {
			t.Fatalf("validAgeRecipient(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil && len(data) <= MaxBytes {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		if err := file.Validate(); err != nil {
			t.Fatalf("decoded file does not validate again: %v\n%q", err, data)
		}
		if len(file.Access) == 0 || len(file.Access) > MaxItems || file.Duration.Duration <= 0 {
			t.Fatalf("decoded file breaks a bound: %+v", file)
		}
		for _, it := range file.Access {
			if r := it.EngineRequest(file); r.TTLSeconds <= 0 || r.Issuer == "" || r.Role == "" {
				t.Fatalf("bad engine request %+v from %q", r, data)
			}
		}
	})
}

// BenchmarkRefuse measures how long refusing a hostile file takes.
func BenchmarkRefuse(b *testing.B) {
	bomb, err := os.ReadFile(filepath.Join("testdata", "invalid", "billion-laughs.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	expand, err := os.ReadFile(filepath.Join("testdata", "invalid", "alias-expansion.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	deep := "version: jit-policy/v1\nrequester: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n"
	cases := []struct {
		name string
		read func() error
	}{
		{"billion-laughs", func() error { _, err := Decode("b.yaml", bomb); return err }},
		{"alias-expansion", func() error { _, err := Decode("b.yaml", expand); return err }},
		{"64KiB+1-oversized", func() error { _, err := Read("b.yaml", &endless{size: 1 << 40}); return err }},
		{"deep-nesting", func() error { _, err := Decode("b.yaml", []byte(deep)); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.read() == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
