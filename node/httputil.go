package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
)

// apiError is the JSON error body of API.md: {"error":{"code","message"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

// fail writes err as the JSON error shape. Only *consult.Error messages
// reach the client; anything else is logged and reported as internal.
func (n *Node) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *consult.Error
	if errors.As(err, &ce) {
		status := http.StatusBadRequest
		switch {
		case errors.Is(ce.Kind, consult.ErrNotFound):
			status = http.StatusNotFound
		case errors.Is(ce.Kind, consult.ErrConflict):
			status = http.StatusConflict
		case errors.Is(ce.Kind, consult.ErrUnauthorized):
			status = http.StatusUnauthorized
		case errors.Is(ce.Kind, consult.ErrForbidden):
			status = http.StatusForbidden
		case errors.Is(ce.Kind, consult.ErrLocked):
			status = http.StatusTooManyRequests
			if ce.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(ce.RetryAfter))
			}
		case errors.Is(ce.Kind, consult.ErrGone):
			status = http.StatusUnprocessableEntity
		case errors.Is(ce.Kind, errTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(ce.Kind, errUnsupported):
			status = http.StatusUnsupportedMediaType
		}
		writeErr(w, status, ce.Code, ce.Message)
		return
	}
	n.log.Error("request failed", "method", r.Method, "route", r.Pattern, "err", err)
	writeErr(w, http.StatusInternalServerError, "internal", "internal error; the node's log has details")
}

// decode reads one JSON object from the body into dst: bounded size,
// unknown fields and trailing data refused, type errors named.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &consult.Error{Kind: errUnsupported, Code: "unsupported_media_type", Message: "send application/json"}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return consult.Errorf(consult.ErrInvalid, "malformed_json", "body must hold exactly one JSON object")
	}
	return nil
}

// errUnsupported and errTooLarge are kinds only the HTTP layer produces.
var (
	errUnsupported = errors.New("unsupported media type")
	errTooLarge    = errors.New("body too large")
)

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	var badTime *time.ParseError
	switch {
	case errors.As(err, &tooBig):
		return &consult.Error{Kind: errTooLarge, Code: "body_too_large", Message: fmt.Sprintf("body exceeds %d bytes", tooBig.Limit)}
	case errors.As(err, &syn):
		return consult.Errorf(consult.ErrInvalid, "malformed_json", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return consult.Errorf(consult.ErrInvalid, "wrong_type", "the body must be a JSON object, not %s", typ.Value)
	case errors.As(err, &typ):
		return consult.Errorf(consult.ErrInvalid, "wrong_type", "field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return consult.Errorf(consult.ErrInvalid, "malformed_json", "empty body; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return consult.Errorf(consult.ErrInvalid, "malformed_json", "truncated JSON")
	case errors.As(err, &badTime), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON:"):
		// time.Time's own decoder reports neither the field nor a type error.
		return consult.Errorf(consult.ErrInvalid, "wrong_type", "times must be RFC 3339 strings, e.g. 2026-03-02T08:00:00+07:00")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return consult.Errorf(consult.ErrInvalid, "unknown_field", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return consult.Errorf(consult.ErrInvalid, "malformed_json", "cannot read body: %v", err)
}

// page reads ?limit=&cursor= (API.md lists).
func page(r *http.Request) (limit int, cursor string, err error) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > 500 {
			return 0, "", consult.Invalid("limit", "must be a whole number from 1 to 500")
		}
	}
	cursor = r.URL.Query().Get("cursor")
	if len(cursor) > 512 {
		return 0, "", consult.Invalid("cursor", "too long")
	}
	return limit, cursor, nil
}

// list is API.md's list shape.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Next: next}
}
