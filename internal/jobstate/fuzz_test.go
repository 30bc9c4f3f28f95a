package jobstate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeGitLabJob feeds untrusted bytes to the GitLab job decoder: it
// must not panic, must reject what lacks an id or status, and whatever it
// accepts must classify into a verdict with a short printable reason, or
// an error, never both. Seeds: the fixtures under testdata/gitlab and the
// corpus under testdata/fuzz/FuzzDecodeGitLabJob.
func FuzzDecodeGitLabJob(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "gitlab", "job-*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeGitLabJob(data)
		if err != nil {
			if j != (gitlabJob{}) {
				t.Errorf("decode failed (%v) but returned %+v", err, j)
			}
			return
		}
		if j.ID <= 0 || j.Status == "" {
			t.Fatalf("decode accepted a job without id or status: %+v", j)
		}
		var raw map[string]any
		if json.Unmarshal(data, &raw) != nil {
			t.Errorf("decode accepted input that is not a JSON object: %q", data)
		}
		v, err := j.verdict()
		if err != nil {
			if v != (Verdict{}) {
				t.Errorf("verdict %+v alongside error %v", v, err)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error too long (%d bytes)", len(err.Error()))
			}
			return
		}
		if !strings.HasPrefix(v.Reason, "job ") || len(v.Reason) > 120 {
			t.Errorf("reason %q", v.Reason)
		}
		for _, r := range v.Reason {
			if r < 0x20 || r >= 0x7f {
				t.Errorf("reason %q has an unprintable rune %U", v.Reason, r)
			}
		}
		if v.Ended != gitlabEnded[j.Status] {
			t.Errorf("status %q: ended = %v", j.Status, v.Ended)
		}
	})
}
