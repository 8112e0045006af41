package storefront

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// The OpenAPI document is generated from the route table (routes.go): each
// route carries a spec of its query parameters, request body and replies,
// given as values of the Go types the handlers decode and encode, and the
// JSON Schemas come from those types by reflection on their json tags. A
// route, a field or a type cannot change without the document following.

// spec documents what a route takes and answers, beyond its method, pattern,
// roles and Doc. Path parameters come from the pattern.
type spec struct {
	Query   []param // query parameters
	Headers []param // request headers the route reads
	// Body is a value of the Go type the handler decodes the JSON request
	// body into; nil for none. In request bodies a field is required when
	// its tag says `openapi:"required"`.
	Body         any
	BodyOptional bool    // the body may be left out
	Form         []param // multipart/form-data fields, instead of a JSON body
	Raw          string  // the media type of a body of bytes, instead of either
	// Out lists the replies that are not errors (JSON errors are implied:
	// see errorStatuses).
	Out []reply
	// Errs lists error statuses beyond those implied by the route's roles,
	// path parameters and body.
	Errs []int
}

// param is a query parameter or a form field.
type param struct {
	Name     string
	Type     any // a value of its Go type: "" for a string, 0 for an integer, rawBytes{} for a file
	Doc      string
	Required bool
}

// reply is a response a route gives when it does not fail.
type reply struct {
	Status int
	Body   any    // a value of the body's Go type; nil for no body
	Type   string // media types, comma-separated; application/json when empty
}

// rawBytes stands for a body or form field of arbitrary bytes.
type rawBytes struct{}

// answers is a route's single JSON reply.
func answers(status int, body any) []reply { return []reply{{Status: status, Body: body}} }

// kept are the replies of public reads answered from memory with an ETag
// (respcache): the body, or 304 when the client holds it.
func kept(body any) []reply {
	return []reply{{Status: http.StatusOK, Body: body}, {Status: http.StatusNotModified}}
}

// fileReplies are the replies of routes serving stored files: the bytes
// (with ranges and conditional requests), or a redirect to a presigned URL
// when the blob store signs them.
func fileReplies(mediaTypes string) []reply {
	return []reply{
		{Status: http.StatusOK, Body: rawBytes{}, Type: mediaTypes},
		{Status: http.StatusPartialContent, Body: rawBytes{}, Type: mediaTypes},
		{Status: http.StatusFound},
		{Status: http.StatusNotModified},
	}
}

// openAPIVersion is the OpenAPI version of the document.
const openAPIVersion = "3.0.3"

// openAPIDoc is the OpenAPI document: its top level and the objects below.
type openAPIDoc struct {
	OpenAPI    string                             `json:"openapi"`
	Info       oaInfo                             `json:"info"`
	Servers    []oaServer                         `json:"servers"`
	Tags       []oaTag                            `json:"tags"`
	Paths      map[string]map[string]*oaOperation `json:"paths"`
	Components oaComponents                       `json:"components"`
}

type oaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type oaServer struct {
	URL string `json:"url"`
}

type oaTag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type oaComponents struct {
	Schemas         map[string]*oaSchema         `json:"schemas"`
	Responses       map[string]*oaResponse       `json:"responses"`
	SecuritySchemes map[string]*oaSecurityScheme `json:"securitySchemes"`
}

type oaSecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	In           string `json:"in,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
}

type oaOperation struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Tags        []string               `json:"tags"`
	Security    []map[string][]string  `json:"security"`
	Parameters  []*oaParameter         `json:"parameters,omitempty"`
	RequestBody *oaRequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*oaResponse `json:"responses"`
	// Roles lists the account roles admitted (admin always); absent on
	// public routes.
	Roles []shopclip.Role `json:"x-roles,omitempty"`
}

type oaParameter struct {
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Description string    `json:"description,omitempty"`
	Required    bool      `json:"required"`
	Schema      *oaSchema `json:"schema"`
}

type oaRequestBody struct {
	Required bool                    `json:"required"`
	Content  map[string]*oaMediaType `json:"content"`
}

type oaMediaType struct {
	Schema *oaSchema `json:"schema"`
}

type oaResponse struct {
	Ref         string                  `json:"$ref,omitempty"`
	Description string                  `json:"description,omitempty"`
	Headers     map[string]*oaHeader    `json:"headers,omitempty"`
	Content     map[string]*oaMediaType `json:"content,omitempty"`
}

type oaHeader struct {
	Description string    `json:"description,omitempty"`
	Schema      *oaSchema `json:"schema"`
}

// oaSchema is the subset of OpenAPI 3.0 Schema Objects the generator writes.
type oaSchema struct {
	Ref                  string               `json:"$ref,omitempty"`
	Type                 string               `json:"type,omitempty"`
	Format               string               `json:"format,omitempty"`
	Nullable             bool                 `json:"nullable,omitempty"`
	Enum                 []string             `json:"enum,omitempty"`
	Items                *oaSchema            `json:"items,omitempty"`
	Properties           map[string]*oaSchema `json:"properties,omitempty"`
	Required             []string             `json:"required,omitempty"`
	AdditionalProperties *oaSchema            `json:"additionalProperties,omitempty"`
}

// serveOpenAPI serves the document built by Handler.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.openAPIJSON)
	return err
}

// buildOpenAPI encodes the document once, for serveOpenAPI.
func (s *Server) buildOpenAPI() []byte {
	b, err := json.MarshalIndent(s.openAPI(), "", "  ")
	if err != nil { // only plain data is encoded
		panic("storefront: encode the OpenAPI document: " + err.Error())
	}
	return append(b, '\n')
}

// errorResponse is the name of the shared error response.
const errorResponse = "Error"

// openAPI builds the OpenAPI document of s's routes. It panics when a route's
// spec names a Go type that has no JSON Schema, a programming error that
// every test building a Server catches.
func (s *Server) openAPI() *openAPIDoc {
	g := &schemaGen{schemas: map[string]*oaSchema{}, types: map[string]reflect.Type{}, request: map[string]bool{}}
	errBody := g.schema(reflect.TypeFor[errorBody](), false)
	doc := &openAPIDoc{
		OpenAPI: openAPIVersion,
		Info: oaInfo{
			Title:   "shopclip",
			Version: "v1",
			Description: "Shoppable short video: creators upload clips, brands tag products into them, viewers see timed pop-ups. " +
				"JSON everywhere; errors are {\"error\": {\"code\", \"message\"}}; money is integer minor units with an ISO-4217 currency; " +
				"times are RFC 3339; clip times are integer milliseconds; screen positions are normalized 0..1.",
		},
		Servers: []oaServer{{URL: cmp.Or(strings.TrimSuffix(s.PublicURL, "/"), "/")}},
		Paths:   map[string]map[string]*oaOperation{},
		Components: oaComponents{
			Schemas:   g.schemas,
			Responses: map[string]*oaResponse{},
			SecuritySchemes: map[string]*oaSecurityScheme{
				"apiKey": {
					Type: "http", Scheme: "bearer", BearerFormat: "sc_…",
					Description: "An account's API key (POST /v1/me/keys, or `shopclip account create`), sent as `Authorization: Bearer <key>`.",
				},
				"session": {
					Type: "apiKey", In: "cookie", Name: auth.CookieName,
					Description: "A browser's session, set by POST /v1/auth/signup or /v1/auth/login. State-changing requests that carry it must come from this site (Sec-Fetch-Site or Origin), else 403.",
				},
			},
		},
	}
	doc.Components.Responses[errorResponse] = &oaResponse{
		Description: "An error: its code says what went wrong, its message how to fix it.",
		Content:     map[string]*oaMediaType{"application/json": {Schema: errBody}},
	}
	for _, rt := range s.routes() {
		path, pathParams := openAPIPath(rt.Pattern)
		op := &oaOperation{
			OperationID: operationID(rt.Method, rt.Pattern),
			Summary:     rt.Doc,
			Tags:        []string{resourceTag(rt.Pattern)},
			Parameters:  pathParams,
			Responses:   map[string]*oaResponse{"default": {Ref: "#/components/responses/" + errorResponse}},
		}
		if rt.Public() {
			op.Description = "Public: viewers need no API key. A key, when sent, must be valid."
			op.Security = []map[string][]string{{}, {"apiKey": {}}, {"session": {}}}
		} else {
			op.Description = "Needs the API key, or the signed-in session, of a " + rt.roleList() + " account (admins are admitted to every route)."
			op.Security = []map[string][]string{{"apiKey": {}}, {"session": {}}}
			op.Roles = append(slices.Clone(rt.Roles), shopclip.RoleAdmin)
		}
		for _, q := range rt.Spec.Query {
			op.Parameters = append(op.Parameters, &oaParameter{Name: q.Name, In: "query", Description: q.Doc,
				Required: q.Required, Schema: g.schema(reflect.TypeOf(q.Type), true)})
		}
		for _, h := range rt.Spec.Headers {
			op.Parameters = append(op.Parameters, &oaParameter{Name: h.Name, In: "header", Description: h.Doc,
				Required: h.Required, Schema: g.schema(reflect.TypeOf(h.Type), true)})
		}
		switch {
		case rt.Spec.Body != nil:
			op.RequestBody = &oaRequestBody{Required: !rt.Spec.BodyOptional, Content: map[string]*oaMediaType{
				"application/json": {Schema: g.schema(reflect.TypeOf(rt.Spec.Body), true)},
			}}
		case rt.Spec.Form != nil:
			form := &oaSchema{Type: "object", Properties: map[string]*oaSchema{}}
			for _, f := range rt.Spec.Form {
				form.Properties[f.Name] = g.schema(reflect.TypeOf(f.Type), true)
				if f.Required {
					form.Required = append(form.Required, f.Name)
				}
			}
			op.RequestBody = &oaRequestBody{Required: true, Content: map[string]*oaMediaType{"multipart/form-data": {Schema: form}}}
		case rt.Spec.Raw != "":
			op.RequestBody = &oaRequestBody{Required: true, Content: map[string]*oaMediaType{rt.Spec.Raw: {Schema: g.schema(reflect.TypeOf(rawBytes{}), true)}}}
		}
		for _, out := range rt.Spec.Out {
			op.Responses[strconv.Itoa(out.Status)] = g.reply(out)
		}
		for _, code := range errorStatuses(rt) {
			name := strings.ReplaceAll(http.StatusText(code), " ", "")
			if doc.Components.Responses[name] == nil {
				doc.Components.Responses[name] = errorReply(code, errBody)
			}
			op.Responses[strconv.Itoa(code)] = &oaResponse{Ref: "#/components/responses/" + name}
		}
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]*oaOperation{}
		}
		doc.Paths[path][strings.ToLower(rt.Method)] = op
		if !slices.ContainsFunc(doc.Tags, func(t oaTag) bool { return t.Name == op.Tags[0] }) {
			doc.Tags = append(doc.Tags, oaTag{Name: op.Tags[0], Description: tagDocs[op.Tags[0]]})
		}
	}
	return doc
}

// errorStatuses lists the error statuses a route can answer with besides
// 500 (the default response): 401 for a missing or bad key (on public routes
// too, when a bad key is sent), 403 when a role is turned away, 404 for
// objects named in the path, 400, 413 and 415 for bodies, and the route's
// own.
func errorStatuses(rt route) []int {
	codes := []int{http.StatusUnauthorized}
	if !rt.Admits(shopclip.RoleCreator) || !rt.Admits(shopclip.RoleBrand) {
		codes = append(codes, http.StatusForbidden)
	}
	if strings.Contains(rt.Pattern, "{") {
		codes = append(codes, http.StatusNotFound)
	}
	if rt.Spec.Body != nil || rt.Spec.Form != nil {
		codes = append(codes, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	codes = append(codes, rt.Spec.Errs...)
	slices.Sort(codes)
	return slices.Compact(codes)
}

var errorDocs = map[int]string{
	http.StatusBadRequest:            "The input is malformed or out of range (code invalid).",
	http.StatusUnauthorized:          "No API key, or a malformed, unknown or revoked one (code unauthorized).",
	http.StatusForbidden:             "The account's role or ownership does not allow this (code forbidden).",
	http.StatusNotFound:              "No such object, or one the caller may not see (code not_found).",
	http.StatusConflict:              "The request conflicts with the object's current state (code conflict).",
	http.StatusRequestEntityTooLarge: "The body exceeds its limit (code too_large).",
	http.StatusUnsupportedMediaType:  "The body's media type or the uploaded file's format is not accepted (code unsupported).",
	http.StatusTooManyRequests:       "Too many requests from this address; retry after Retry-After seconds (code rate_limited).",
}

func errorReply(code int, body *oaSchema) *oaResponse {
	r := &oaResponse{Description: errorDocs[code], Content: map[string]*oaMediaType{"application/json": {Schema: body}}}
	if r.Description == "" {
		r.Description = http.StatusText(code)
	}
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		r.Headers = map[string]*oaHeader{"Retry-After": {Description: "Seconds to wait.", Schema: &oaSchema{Type: "integer"}}}
	}
	return r
}

func (g *schemaGen) reply(out reply) *oaResponse {
	r := &oaResponse{Description: http.StatusText(out.Status)}
	if out.Status >= 300 && out.Status < 400 && out.Status != http.StatusNotModified {
		r.Headers = map[string]*oaHeader{"Location": {Schema: &oaSchema{Type: "string", Format: "uri"}}}
	}
	if out.Body == nil {
		return r
	}
	types := out.Type
	if types == "" {
		types = "application/json"
	}
	schema := g.schema(reflect.TypeOf(out.Body), false)
	r.Content = map[string]*oaMediaType{}
	for t := range strings.SplitSeq(types, ",") {
		r.Content[strings.TrimSpace(t)] = &oaMediaType{Schema: schema}
	}
	return r
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path ({file...}
// becomes {file}) and its path parameters.
func openAPIPath(pattern string) (string, []*oaParameter) {
	segs := strings.Split(strings.TrimSuffix(pattern, "{$}"), "/")
	var params []*oaParameter
	for i, seg := range segs {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
		segs[i] = "{" + name + "}"
		params = append(params, &oaParameter{Name: name, In: "path", Required: true,
			Description: pathParamDoc(segs[i-1], name), Schema: &oaSchema{Type: "string"}})
	}
	return strings.Join(segs, "/"), params
}

func pathParamDoc(prev, name string) string {
	switch name {
	case "id":
		return "ID of the " + strings.TrimSuffix(prev, "s")
	case "tag_id":
		return "ID of the tag"
	case "brand_id":
		return "ID of the brand's account"
	case "gen":
		return "the generation of the clip's outputs, as in its playback URLs"
	case "file":
		return "the file's name, as in the clip's playback URLs"
	}
	return ""
}

// operationID makes a stable operation ID from method and pattern:
// "GET /v1/clips/{id}/popups" is getV1ClipsIdPopups.
func operationID(method, pattern string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, word := range strings.FieldsFunc(pattern, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	return b.String()
}

// resourceTags groups routes by the resource named by their last literal
// path segment that names one; others go by their first segment after /v1.
var resourceTags = map[string]string{
	"clips": "clips", "feed": "clips", "media": "clips", "share": "clips",
	"products": "products", "discounts": "products",
	"tags": "tags", "approved-brands": "tags",
	"popups": "popups", "overlays.vtt": "popups", "buy": "popups",
	"events": "analytics", "stats": "analytics",
	"me": "accounts", "auth": "accounts", "keys": "accounts", "sessions": "accounts",
	"search": "discovery", "deals": "discovery",
}

var tagDocs = map[string]string{
	"service":   "Health, readiness, metrics and this document.",
	"accounts":  "Accounts: sign-up, sign-in and sessions, the caller's account and API keys.",
	"clips":     "Creators' clips: upload, status, playback, the feed.",
	"products":  "Brands' catalogs: products and discounts.",
	"tags":      "Products tagged into clips, and the clip creator's consent.",
	"popups":    "What viewers see: the pop-ups live now, and buy links.",
	"analytics": "Viewer events, purchases and the funnel.",
	"discovery": "Finding clips: search, and the clips with a sale on.",
	"uploads":   "Resumable uploads: the tus 1.0 protocol (core, creation, termination). A finished upload becomes a clip as POST /v1/clips makes one.",
}

func resourceTag(pattern string) string {
	segs := strings.Split(strings.Trim(pattern, "/"), "/")
	if segs[0] != "v1" || len(segs) < 2 {
		return "service"
	}
	for i := len(segs) - 1; i > 0; i-- {
		if tag, ok := resourceTags[segs[i]]; ok {
			return tag
		}
	}
	return segs[1]
}

// enums lists the values of the named string types that have a fixed set.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[shopclip.ClipStatus]():   values(shopclip.ClipUploaded, shopclip.ClipProcessing, shopclip.ClipReady, shopclip.ClipFailed),
	reflect.TypeFor[shopclip.TagStatus]():    values(shopclip.TagPending, shopclip.TagActive, shopclip.TagRejected),
	reflect.TypeFor[shopclip.DiscountKind](): values(shopclip.DiscountPercent, shopclip.DiscountAmount),
	reflect.TypeFor[shopclip.EventType]():    values(shopclip.EventView, shopclip.EventImpression, shopclip.EventClick, shopclip.EventPurchase),
	reflect.TypeFor[shopclip.Role]():         values(shopclip.RoleCreator, shopclip.RoleBrand, shopclip.RoleAdmin),
}

func values[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemaGen makes JSON Schemas from Go types as encoding/json encodes them.
// Named structs and enums become components, referred to by name.
type schemaGen struct {
	schemas map[string]*oaSchema
	types   map[string]reflect.Type // component name → its type
	request map[string]bool         // component name → made for a request body
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawBytesType = reflect.TypeFor[rawBytes]()
)

// schema returns the schema of t, a request body's type (in) or a
// response's. In responses a field is required unless it is omitempty (the
// server always sends it); in requests when tagged `openapi:"required"`.
func (g *schemaGen) schema(t reflect.Type, in bool) *oaSchema {
	switch t {
	case timeType:
		return &oaSchema{Type: "string", Format: "date-time"}
	case rawBytesType:
		return &oaSchema{Type: "string", Format: "binary"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem(), in)
	case reflect.String:
		if vs, ok := enums[t]; ok {
			return g.component(t, in, func() *oaSchema { return &oaSchema{Type: "string", Enum: vs} })
		}
		return &oaSchema{Type: "string"}
	case reflect.Bool:
		return &oaSchema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Uint8, reflect.Uint16:
		return &oaSchema{Type: "integer"}
	case reflect.Int32, reflect.Uint32:
		return &oaSchema{Type: "integer", Format: "int32"}
	case reflect.Int64, reflect.Uint, reflect.Uint64:
		return &oaSchema{Type: "integer", Format: "int64"}
	case reflect.Float32:
		return &oaSchema{Type: "number", Format: "float"}
	case reflect.Float64:
		return &oaSchema{Type: "number", Format: "double"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &oaSchema{Type: "string", Format: "byte"}
		}
		return &oaSchema{Type: "array", Items: g.schema(t.Elem(), in)}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("storefront: no JSON Schema for %v: map keys must be strings", t))
		}
		return &oaSchema{Type: "object", AdditionalProperties: g.schema(t.Elem(), in)}
	case reflect.Interface:
		return &oaSchema{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t, in)
		}
		return g.component(t, in, func() *oaSchema { return g.object(t, in) })
	}
	panic(fmt.Sprintf("storefront: no JSON Schema for %v", t))
}

// component adds t's schema to the components, once, and refers to it.
func (g *schemaGen) component(t reflect.Type, in bool, build func() *oaSchema) *oaSchema {
	name := strings.TrimSuffix(t.Name(), "JSON")
	name = strings.ToUpper(name[:1]) + name[1:]
	ref := &oaSchema{Ref: "#/components/schemas/" + name}
	if prev, ok := g.types[name]; ok {
		if prev != t {
			panic(fmt.Sprintf("storefront: schema name %s names both %v and %v", name, prev, t))
		} else if g.request[name] != in && t.Kind() == reflect.Struct {
			panic(fmt.Sprintf("storefront: %v is both a request and a response body; give each its own type", t))
		}
		return ref
	}
	g.types[name], g.request[name] = t, in
	g.schemas[name] = nil // reserved: recursive types refer to it while it is built
	g.schemas[name] = build()
	return ref
}

// object is the schema of struct type t: its fields as encoding/json sees
// them, embedded structs' promoted ones included.
func (g *schemaGen) object(t reflect.Type, in bool) *oaSchema {
	s := &oaSchema{Type: "object", Properties: map[string]*oaSchema{}}
	depth := map[string]int{}
	g.fields(t, in, s, depth, 0)
	slices.Sort(s.Required)
	return s
}

func (g *schemaGen) fields(t reflect.Type, in bool, s *oaSchema, depth map[string]int, level int) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, in, s, depth, level+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if d, ok := depth[name]; ok && d <= level {
			if d == level {
				panic(fmt.Sprintf("storefront: %v has two fields named %q", t, name))
			}
			continue // shadowed by a shallower field
		}
		depth[name] = level
		omit := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		var fs *oaSchema
		if hasOpt(opts, "string") {
			fs = &oaSchema{Type: "string"}
		} else {
			fs = g.schema(ft, in)
		}
		if !in && !omit && ft.Kind() == reflect.Pointer && fs.Ref == "" {
			fs.Nullable = true
		}
		s.Properties[name] = fs
		s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == name })
		if in && hasOpt(f.Tag.Get("openapi"), "required") || !in && !omit {
			s.Required = append(s.Required, name)
		}
	}
}

func hasOpt(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}
