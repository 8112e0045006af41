package storefront

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/shopclip/shopclip"
)

// statusOf maps application error codes to HTTP statuses: the one place that
// does.
func statusOf(code string) int {
	switch code {
	case shopclip.EINVALID:
		return http.StatusBadRequest
	case shopclip.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case shopclip.EFORBIDDEN:
		return http.StatusForbidden
	case shopclip.ENOTFOUND:
		return http.StatusNotFound
	case shopclip.EMETHOD:
		return http.StatusMethodNotAllowed
	case shopclip.ECONFLICT:
		return http.StatusConflict
	case shopclip.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case shopclip.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case shopclip.ERATELIMITED:
		return http.StatusTooManyRequests
	case shopclip.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	if shopclip.IsMediaError(code) {
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error shopclip.Error `json:"error"`
}

// writeError writes err as {"error":{"code","message"}} with its status.
// Internal errors are logged with their details and shown generically.
func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	code := shopclip.ErrorCode(err)
	status := statusOf(code)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, errorBody{shopclip.Error{Code: code, Message: shopclip.ErrorMessage(err)}})
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 1 << 20

// decodeJSON decodes r's body into v strictly: one JSON object, no unknown
// fields (a client cannot set brand_id or status by sending them), at most
// 1 MiB.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return shopclip.Errorf(shopclip.EUNSUPPORTED, "Send JSON with Content-Type: application/json (got %q).", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return shopclip.Errorf(shopclip.EINVALID, "The body must hold a single JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return shopclip.Errorf(shopclip.EINVALID, "The body must hold a single JSON object.")
	}
	return nil
}

// jsonError turns a decoding error into a message a client can act on.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return shopclip.Errorf(shopclip.ETOOLARGE, "The JSON body exceeds %d bytes.", maxJSONBody)
	case errors.As(err, &syn):
		return shopclip.Errorf(shopclip.EINVALID, "Malformed JSON at byte %d.", syn.Offset)
	case errors.As(err, &typ):
		return shopclip.Errorf(shopclip.EINVALID, "Field %q must be a %s, not a JSON %s.", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.EOF):
		return shopclip.Errorf(shopclip.EINVALID, "The body is empty; send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return shopclip.Errorf(shopclip.EINVALID, "The JSON body ends too early.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return shopclip.Errorf(shopclip.EINVALID, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return shopclip.Errorf(shopclip.EINVALID, "Invalid JSON: %v.", err)
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "number"
	case "ptr":
		return "value"
	}
	return k
}

// pathID returns the path value name after checking it is an ID with prefix;
// anything else is not found.
func pathID(r *http.Request, name, prefix, what string) (string, error) {
	id := r.PathValue(name)
	if !shopclip.ValidID(prefix, id) {
		return "", shopclip.Errorf(shopclip.ENOTFOUND, "%s %q not found.", what, id)
	}
	return id, nil
}

// notFound is the error for objects that do not exist or that the caller may
// not see: the two are indistinguishable on purpose.
func notFound(what, id string) error {
	return shopclip.Errorf(shopclip.ENOTFOUND, "%s %s not found.", what, id)
}
