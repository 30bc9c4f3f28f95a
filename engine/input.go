package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the value of Input.Version this engine understands.
const Version = "jit-policy/v1"

// MaxInputBytes bounds an input document read by [DecodeInput].
const MaxInputBytes = 1 << 20

// Kind says which flow a request came through.
type Kind string

// The request kinds.
const (
	KindPipeline    Kind = "pipeline"
	KindPullRequest Kind = "pull_request"
)

// Input is the document policies see as `input`. Its JSON tags are the
// contract with policy authors (DESIGN.md, "Input document").
type Input struct {
	Version     string         `json:"version"`
	Kind        Kind           `json:"kind"`
	Now         time.Time      `json:"now"`
	Request     Request        `json:"request"`
	Token       map[string]any `json:"token,omitempty"`
	PullRequest *PullRequest   `json:"pull_request,omitempty"`
	Approvals   []Approval     `json:"approvals,omitempty"`
	Requester   *Requester     `json:"requester,omitempty"`
}

// PullRequest holds the facts of a pull-request access request, fetched
// from the API, never from the PR's own files.
type PullRequest struct {
	Number            int      `json:"number"`
	Author            string   `json:"author"`
	AuthorAssociation string   `json:"author_association"`
	BaseRef           string   `json:"base_ref"`
	HeadSHA           string   `json:"head_sha"`
	Draft             bool     `json:"draft"`
	Merged            bool     `json:"merged"`
	FromFork          bool     `json:"from_fork"`
	Labels            []string `json:"labels"`
	Files             []string `json:"files"`
}

// Approval is one reviewer's latest stance on a pull request. Current is
// true only when it was given on the head commit.
type Approval struct {
	Login       string    `json:"login"`
	Teams       []string  `json:"teams"`
	CommitID    string    `json:"commit_id"`
	Current     bool      `json:"current"`
	State       string    `json:"state"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Requester is the person who asked for access in a pull request.
type Requester struct {
	Login string   `json:"login"`
	Teams []string `json:"teams"`
}

// DecodeInput reads one input document from untrusted JSON: at most
// [MaxInputBytes], one JSON object, no unknown top-level fields, then
// [Input.Validate].
func DecodeInput(r io.Reader) (Input, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return Input{}, fmt.Errorf("reading input: %w", err)
	}
	if len(data) > MaxInputBytes {
		return Input{}, fmt.Errorf("input is larger than %d bytes: send a smaller document", MaxInputBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in Input
	if err := dec.Decode(&in); err != nil {
		return Input{}, fmt.Errorf("decoding input: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Input{}, errors.New("decoding input: more than one JSON value: send exactly one object")
	}
	if err := in.Validate(); err != nil {
		return Input{}, err
	}
	return in, nil
}

// Validate checks that the input fits the schema: the version, the kind and
// the parts each kind must (and must not) carry.
func (in *Input) Validate() error {
	var errs []error
	if in.Version != Version {
		errs = append(errs, fmt.Errorf("version is %q, want %q", in.Version, Version))
	}
	if in.Now.IsZero() {
		errs = append(errs, errors.New("now is missing"))
	}
	if err := in.Request.validate(); err != nil {
		errs = append(errs, err)
	}
	switch in.Kind {
	case KindPipeline:
		if len(in.Token) == 0 {
			errs = append(errs, errors.New("a pipeline request needs verified token claims"))
		}
		if in.PullRequest != nil || in.Requester != nil || in.Approvals != nil {
			errs = append(errs, errors.New("a pipeline request carries no pull_request, requester or approvals"))
		}
	case KindPullRequest:
		if in.PullRequest == nil || in.Requester == nil {
			errs = append(errs, errors.New("a pull_request request needs pull_request and requester"))
		}
		if in.Token != nil {
			errs = append(errs, errors.New("a pull_request request carries no token"))
		}
	default:
		errs = append(errs, fmt.Errorf("kind is %q, want %q or %q", in.Kind, KindPipeline, KindPullRequest))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("input does not fit the schema: %w", err)
	}
	return nil
}
