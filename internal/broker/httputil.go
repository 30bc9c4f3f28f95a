package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
)

// writeJSON writes v with code. Every API response is not to be cached:
// an issue response holds secrets.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers code with a plain message (and the policy's deny
// reasons); detail, when set, goes to the log only.
func writeError(w http.ResponseWriter, lf *logFields, code int, msg string, detail error) {
	if detail != nil {
		lf.detail = detail
	}
	writeJSON(w, code, brokerapi.Error{Error: msg})
}

// getOnly answers 405 unless r is a GET or HEAD.
func getOnly(w http.ResponseWriter, r *http.Request, lf *logFields) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, lf, http.StatusMethodNotAllowed, "method not allowed: use GET", nil)
	return false
}

// readRequest checks that r is a POST of JSON and decodes its body into
// v strictly: at most brokerapi.MaxRequestBytes, one object, no unknown
// fields. It answers the error itself and returns false on failure.
func readRequest(w http.ResponseWriter, r *http.Request, lf *logFields, v any) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, lf, http.StatusMethodNotAllowed, "method not allowed: use POST", nil)
		return false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, lf, http.StatusUnsupportedMediaType, "Content-Type must be application/json", nil)
		return false
	}
	if r.ContentLength > brokerapi.MaxRequestBytes {
		writeError(w, lf, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", brokerapi.MaxRequestBytes), nil)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, brokerapi.MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, lf, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", brokerapi.MaxRequestBytes), nil)
			return false
		}
		writeError(w, lf, http.StatusBadRequest, "reading the request body failed", err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, lf, http.StatusBadRequest, "malformed JSON request: "+jsonProblem(err), nil)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, lf, http.StatusBadRequest, "malformed JSON request: data after the object", nil)
		return false
	}
	return true
}

// jsonProblem describes a decoding error without quoting the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the body"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not a JSON object of the expected fields"
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header, or
// answers 401 and returns false.
func bearer(w http.ResponseWriter, r *http.Request, lf *logFields) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		unauthorized(w, lf, "an OIDC ID token is required: Authorization: Bearer TOKEN", nil)
		return "", false
	}
	return token, true
}

func unauthorized(w http.ResponseWriter, lf *logFields, msg string, detail error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="jit-policy"`)
	writeError(w, lf, http.StatusUnauthorized, msg, detail)
}
