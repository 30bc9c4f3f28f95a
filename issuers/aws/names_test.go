package aws

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func TestSessionName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		job  lease.Job
		pr   int
		want string
	}{
		{"github", lease.Job{RunID: "9876543210", Attempt: "2"}, 0, "jit-9876543210-2-0123456789ab"},
		{"gitlab has no attempt", lease.Job{RunID: "555"}, 0, "jit-555-0123456789ab"},
		{"pull request", lease.Job{}, 42, "jit-pr42-0123456789ab"},
		{"unknown job", lease.Job{}, 0, "jit-0123456789ab"},
		{"hostile run id left out", lease.Job{RunID: "1;DROP", Attempt: "1"}, 0, "jit-1-0123456789ab"},
		{"hostile attempt left out", lease.Job{RunID: "7", Attempt: "../x"}, 0, "jit-7-0123456789ab"},
		{"too long falls back", lease.Job{RunID: strings.Repeat("9", 60), Attempt: "1"}, 0, "jit-0123456789ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SessionName(id, tt.job, tt.pr)
			if got != tt.want {
				t.Fatalf("SessionName = %q, want %q", got, tt.want)
			}
			if err := checkSessionName(got); err != nil {
				t.Fatalf("STS would refuse %q: %v", got, err)
			}
		})
	}
}

func TestCheckSessionNameRefuses(t *testing.T) {
	for _, name := range []string{"", "j", "jit/1", "jit 1", "jit:1", "jit\n1", strings.Repeat("a", 65), "jit-ü"} {
		if err := checkSessionName(name); err == nil {
			t.Errorf("checkSessionName(%q) accepted a name STS refuses", name)
		}
	}
}

func TestSourceIdentity(t *testing.T) {
	tests := []struct {
		subject, want, err string
	}{
		{"alice", "alice", ""},
		{"repo:acme/app:ref:refs/heads/main", "repo=3Aacme=2Fapp=3Aref=3Arefs=2Fheads=2Fmain", ""},
		{"a=b", "a=3Db", ""}, // "=" is escaped too, so escaping stays one-to-one
		{"a=3Db", "a=3D3Db", ""},
		{"aws:evil", "aws=3Aevil", ""}, // never starts with the reserved aws: prefix
		{"üser", "=C3=BCser", ""},
		{"x", "", "STS takes 2 to 64"},
		{"", "", "STS takes 2 to 64"},
		{"repo:" + strings.Repeat("a", 60), "", "STS takes 2 to 64"},
		{"a\x00b\nc", "a=00b=0Ac", ""},
	}
	for _, tt := range tests {
		got, err := SourceIdentity(tt.subject)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SourceIdentity(%q) = %q, %v; want error containing %q", tt.subject, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SourceIdentity(%q) = %q, %v; want %q", tt.subject, got, err, tt.want)
		}
	}
	// Distinct subjects that a lossy sanitiser would merge stay distinct.
	a, _ := SourceIdentity("repo:acme/app-x")
	b, _ := SourceIdentity("repo:acme-app/x")
	if a == b {
		t.Fatalf("two subjects escaped to the same source identity %q", a)
	}
}

func TestSessionTags(t *testing.T) {
	l := lease.Lease{ID: "0123456789abcdef0123456789abcdef", PR: 0}
	good := map[string]any{"repository": "acme/app", "ref": "refs/heads/main", "workflow": "Deploy prod", "run_id": "123", "environment": ""}
	tags, err := sessionTags(l, good)
	if err != nil {
		t.Fatalf("sessionTags: %v", err)
	}
	got := map[string]string{}
	for _, tg := range tags {
		got[*tg.Key] = *tg.Value
	}
	want := map[string]string{"repository": "acme/app", "ref": "refs/heads/main", "workflow": "Deploy prod", "run-id": "123", "lease-id": l.ID}
	if len(got) != len(want) {
		t.Fatalf("tags = %v, want %v (empty environment left out)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("tag %s = %q, want %q", k, got[k], v)
		}
	}
	gl, err := sessionTags(l, map[string]any{"project_path": "group/proj", "pipeline_id": "77"})
	if err != nil || len(gl) != 3 || *gl[0].Value != "group/proj" || *gl[1].Value != "77" {
		t.Fatalf("GitLab facts: %v %v", gl, err)
	}

	hostile := []struct {
		name   string
		claims map[string]any
		err    string
	}{
		{"quote in workflow", map[string]any{"workflow": `deploy"}`}, "characters IAM does not accept"},
		{"parentheses", map[string]any{"workflow": "Deploy (prod)"}, "characters IAM does not accept"},
		{"newline", map[string]any{"ref": "refs/heads/a\nb"}, "characters IAM does not accept"},
		{"wildcard", map[string]any{"ref": "refs/heads/*"}, "characters IAM does not accept"},
		{"too long is refused, not cut", map[string]any{"ref": "refs/heads/" + strings.Repeat("a", 250)}, "at most 256"},
		{"invalid utf-8", map[string]any{"repository": "acme/\xff"}, "characters IAM does not accept"},
		{"shell", map[string]any{"environment": "$(id)"}, "characters IAM does not accept"},
	}
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sessionTags(l, tt.claims)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("sessionTags(%v) error = %v, want %q", tt.claims, err, tt.err)
			}
		})
	}
	if _, err := sessionTags(l, map[string]any{"ref": strings.Repeat("é", 256)}); err != nil {
		t.Fatalf("256 characters (512 bytes) must be accepted: %v", err)
	}
}

func TestCheckTagKeys(t *testing.T) {
	for _, key := range []string{"", "aws:x", "AWS:x", strings.Repeat("k", 129), "a*b"} {
		if err := checkTag(key, "v"); err == nil {
			t.Errorf("checkTag(%q) accepted a key IAM refuses", key)
		}
	}
}
