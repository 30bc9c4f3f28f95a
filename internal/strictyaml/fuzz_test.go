package strictyaml

import (
	"strings"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"name: a\ncount: 1\ntags: [x, y]\n",
		"inner: &i {level: 1, names: [a]}\nroles: {a: *i, b: *i}\n",
		"name: ${USER}\nmeta: {k: \"${SECRET}\"}\n",
		"any: &a [x, *a]\n",
		"a: 1\n---\nb: 2\n",
		"count: ${SECRET}\n",
		"<<: {name: x}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var typed sample
		_, err := DecodeWith("fuzz.yaml", data, &typed, Options{Expand: testEnv})
		checkResult(t, data, err, true)

		var free any
		_, err = DecodeWith("fuzz.yaml", data, &free, Options{})
		checkResult(t, data, err, free != nil)
	})
}

// checkResult asserts that DecodeWith returned either a value or an error that
// names the file, and never shows the secret the input did not write.
func checkResult(t *testing.T, data []byte, err error, gotValue bool) {
	t.Helper()
	if err == nil {
		if !gotValue {
			t.Fatalf("no error and no value for %q", data)
		}
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "fuzz.yaml") {
		t.Fatalf("error does not name the file: %q", msg)
	}
	if strings.Contains(msg, "hunter2") && !strings.Contains(string(data), "hunter2") {
		t.Fatalf("error shows an expanded secret: %q for %q", msg, data)
	}
}
