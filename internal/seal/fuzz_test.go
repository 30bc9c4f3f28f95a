package seal

import "testing"

func FuzzRecipients(f *testing.F) {
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGvUq3AqCSm1hD2I8iN3R/hUMNVu9wK5pnXh3NqgBPPh alice")
	f.Add("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ")
	f.Add(`command="x" ssh-ed25519 AAAA`)
	f.Add("ecdsa-sha2-nistp256 AAAAE2VjZHNh")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Recipients([]string{s})
		if err == nil {
			if len(rs) != 1 || rs[0].Recipient == nil || rs[0].Fingerprint == "" {
				t.Fatalf("Recipients(%q) = %+v", s, rs)
			}
			if rs[0].Type != "age" && rs[0].Type != "ssh-ed25519" && rs[0].Type != "ssh-rsa" {
				t.Fatalf("Recipients(%q): type %q", s, rs[0].Type)
			}
		}
		gh, skipped := FromGitHubKeys([]string{s})
		if len(gh)+len(skipped) != 1 {
			t.Fatalf("FromGitHubKeys(%q) = %+v, %q", s, gh, skipped)
		}
	})
}
