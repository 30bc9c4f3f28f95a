package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// Request is what was asked for: the issuer, the role and the caps the
// requester wants. Issuer-specific fields (public_key, csr, databases, …)
// sit beside the common ones in the same JSON object and land in Fields.
type Request struct {
	Issuer     string   `json:"issuer"`
	Role       string   `json:"role"`
	TTLSeconds int64    `json:"ttl_seconds,omitempty"`
	Principals []string `json:"principals,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	// Fields holds the issuer-specific fields. Its keys never shadow the
	// common fields above.
	Fields map[string]any `json:"-"`
}

// requestCommon has Request's common fields without its methods.
type requestCommon struct {
	Issuer     string   `json:"issuer"`
	Role       string   `json:"role"`
	TTLSeconds int64    `json:"ttl_seconds,omitempty"`
	Principals []string `json:"principals,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

var requestCommonKeys = []string{"issuer", "role", "ttl_seconds", "principals", "reason"}

// MarshalJSON writes the common fields and Fields as one object.
func (r Request) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r.Fields)+len(requestCommonKeys))
	maps.Copy(m, r.Fields)
	m["issuer"], m["role"] = r.Issuer, r.Role
	if r.TTLSeconds != 0 {
		m["ttl_seconds"] = r.TTLSeconds
	}
	if r.Principals != nil {
		m["principals"] = r.Principals
	}
	if r.Reason != "" {
		m["reason"] = r.Reason
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the common fields strictly and keeps the rest in Fields.
func (r *Request) UnmarshalJSON(data []byte) error {
	var common requestCommon
	if err := json.Unmarshal(data, &common); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for _, k := range requestCommonKeys {
		delete(all, k)
	}
	*r = Request{
		Issuer: common.Issuer, Role: common.Role, TTLSeconds: common.TTLSeconds,
		Principals: common.Principals, Reason: common.Reason,
	}
	if len(all) > 0 {
		r.Fields = all
	}
	return nil
}

func (r Request) validate() error {
	var errs []error
	if r.Issuer == "" {
		errs = append(errs, errors.New("request.issuer is missing"))
	}
	if r.Role == "" {
		errs = append(errs, errors.New("request.role is missing"))
	}
	if r.TTLSeconds < 0 {
		errs = append(errs, fmt.Errorf("request.ttl_seconds is %d, want 0 (the maximum) or more", r.TTLSeconds))
	}
	return errors.Join(errs...)
}
