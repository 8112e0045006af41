package storefront

import (
	"net/http"
	"slices"
	"strings"

	"github.com/shopclip/shopclip"
)

// route is one API route and who may call it.
type route struct {
	Method  string
	Pattern string
	// Roles admitted; nil means anyone, viewers without a key included.
	// Admins are admitted to every route.
	Roles  []shopclip.Role
	Handle func(s *Server, w http.ResponseWriter, r *http.Request) error
	// Doc is a one-line description, for the route listing.
	Doc string
	// Spec documents the route's parameters, body and replies for the
	// OpenAPI document (openapi.go).
	Spec spec
}

// Public reports whether viewers without a key may call the route.
func (rt route) Public() bool { return rt.Roles == nil }

// Admits reports whether an account with role may call the route.
func (rt route) Admits(role shopclip.Role) bool {
	return rt.Public() || role == shopclip.RoleAdmin || slices.Contains(rt.Roles, role)
}

func (rt route) roleList() string {
	var names []string
	for _, r := range rt.Roles {
		names = append(names, string(r))
	}
	return strings.Join(names, " or ")
}

var (
	anyone   []shopclip.Role
	creators = []shopclip.Role{shopclip.RoleCreator}
	brands   = []shopclip.Role{shopclip.RoleBrand}
	members  = []shopclip.Role{shopclip.RoleCreator, shopclip.RoleBrand}
)

// Route describes an API route for documentation and tests.
type Route struct {
	Method, Pattern, Doc string
	Roles                []shopclip.Role // nil: public
}

// Routes lists every API route.
func (s *Server) Routes() []Route {
	var out []Route
	for _, rt := range s.routes() {
		out = append(out, Route{rt.Method, rt.Pattern, rt.Doc, rt.Roles})
	}
	return out
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", anyone, (*Server).healthz, "liveness", spec{Out: answers(200, health{})}},
		{"GET", "/readyz", anyone, (*Server).readyz, "readiness: database, blob store and Redis reachable", spec{Out: []reply{{Status: 200, Body: health{}}, {Status: 503, Body: health{}}}}},
		{"GET", "/openapi.json", anyone, (*Server).serveOpenAPI, "this API's OpenAPI 3 document", spec{Out: answers(200, map[string]any{})}},
		{"GET", "/metrics", anyone, (*Server).serveMetrics, "Prometheus metrics", spec{Out: []reply{{Status: 200, Body: "", Type: "text/plain; version=0.0.4"}}, Errs: []int{404}}},

		{"GET", "/v1/me", members, (*Server).me, "the caller's account", spec{Out: answers(200, shopclip.Account{})}},

		{"POST", "/v1/auth/signup", anyone, (*Server).signup, "create a creator or brand account and sign in (sets the session cookie)", spec{Body: signupInput{}, Out: answers(201, signedIn{}), Errs: []int{403, 409, 429, 503}}},
		{"POST", "/v1/auth/login", anyone, (*Server).login, "sign in with email and password (sets the session cookie; 401 when wrong)", spec{Body: loginInput{}, Out: answers(200, signedIn{}), Errs: []int{403, 429, 503}}},
		{"POST", "/v1/auth/logout", anyone, (*Server).logout, "sign out: this session, or every one with {\"everywhere\": true}", spec{Body: logoutInput{}, BodyOptional: true, Out: []reply{{Status: 204}}, Errs: []int{503}}},
		{"POST", "/v1/me/keys", members, (*Server).createKey, "a new API key (shown once)", spec{Body: keyInput{}, Out: answers(201, newKeyJSON{}), Errs: []int{503}}},
		{"GET", "/v1/me/keys", members, (*Server).listKeys, "the caller's API keys, revoked ones too", spec{Out: answers(200, keyList{}), Errs: []int{503}}},
		{"DELETE", "/v1/me/keys/{id}", members, (*Server).revokeKey, "revoke an API key: it stops working at once", spec{Out: []reply{{Status: 204}}, Errs: []int{503}}},
		{"GET", "/v1/me/sessions", members, (*Server).listSessions, "the caller's signed-in browsers", spec{Out: answers(200, sessionList{}), Errs: []int{503}}},
		{"DELETE", "/v1/me/sessions/{id}", members, (*Server).endSession, "sign one browser out", spec{Out: []reply{{Status: 204}}, Errs: []int{503}}},

		{"POST", "/v1/clips", creators, (*Server).createClip, "upload a clip (multipart: file, title); 413 past the upload limit or the account's storage quota, 429 with Retry-After past the account's uploads at once or a day, 503 with Retry-After when the server has as many uploads as it takes", spec{
			Headers: []param{{Name: "Idempotency-Key", Type: "", Doc: "a key of the client's (a UUID): a repeat of the upload with it makes no second clip and answers with the first (Idempotent-Replayed: true)"}},
			Form:    []param{{Name: "file", Type: rawBytes{}, Doc: "the video: MP4, MOV, WebM, MKV, AVI, MPEG-TS or MPEG-PS (.mpg)", Required: true}, {Name: "title", Type: "", Doc: "the clip's title; the file's name when left out"}},
			Out:     answers(202, clipJSON{}),
			Errs:    []int{413, 415, 429, 503},
		}},
		{"OPTIONS", "/v1/uploads/{$}", anyone, (*Server).uploadOptions, "tus discovery: the protocol's version, extensions and Tus-Max-Size", spec{Out: []reply{{Status: 200}}, Errs: []int{503}}},
		{"POST", "/v1/uploads/{$}", creators, (*Server).createUpload, "start a resumable upload (tus 1.0 creation); its Location is where to PATCH the bytes", spec{
			Headers: []param{
				{Name: "Tus-Resumable", Type: "", Doc: "1.0.0", Required: true},
				{Name: "Upload-Length", Type: 0, Doc: "the file's size in bytes", Required: true},
				{Name: "Upload-Metadata", Type: "", Doc: "comma-separated \"key base64(value)\" pairs: filename, filetype (video/…), title (the file's name when left out)"},
			},
			Out:  []reply{{Status: 201}},
			Errs: []int{413, 415, 429, 503},
		}},
		{"HEAD", "/v1/uploads/{id}", creators, (*Server).headUpload, "how much of an upload the server has (Upload-Offset); once finished, its clip (Shopclip-Clip-Id)", spec{Out: []reply{{Status: 200}}, Errs: []int{503}}},
		{"PATCH", "/v1/uploads/{id}", creators, (*Server).patchUpload, "append bytes at Upload-Offset (409 when it is not the server's); the last PATCH makes the clip and answers with Shopclip-Clip-Id", spec{
			Headers: []param{
				{Name: "Tus-Resumable", Type: "", Doc: "1.0.0", Required: true},
				{Name: "Upload-Offset", Type: 0, Doc: "where these bytes go: the offset the last HEAD or PATCH answered", Required: true},
			},
			Raw:  "application/offset+octet-stream",
			Out:  []reply{{Status: 204}},
			Errs: []int{409, 413, 415, 422, 429, 503},
		}},
		{"DELETE", "/v1/uploads/{id}", creators, (*Server).deleteUpload, "cancel an upload and drop its bytes", spec{Headers: []param{{Name: "Tus-Resumable", Type: "", Doc: "1.0.0", Required: true}}, Out: []reply{{Status: 204}}, Errs: []int{503}}},
		{"GET", "/v1/clips", creators, (*Server).listMyClips, "the caller's clips, any status, newest first (cursor pagination)", spec{Query: pageQuery("clips"), Out: answers(200, clipList{}), Errs: []int{400}}},
		{"GET", "/v1/clips/live", creators, (*Server).clipsLive, "the caller's clips as server-sent events: each at once, then again whenever it changes (\"clip\"), or \"deleted\"", spec{Out: []reply{{Status: 200, Body: "", Type: "text/event-stream"}}, Errs: []int{409, 503}}},
		{"POST", "/v1/clips/{id}/retry", creators, (*Server).retryClip, "process a failed clip again, when the failure was not the file's (its creator)", spec{Out: answers(202, clipJSON{}), Errs: []int{409, 503}}},
		{"GET", "/v1/clips/{id}", anyone, (*Server).getClip, "a clip (ready ones to everyone, any status to its creator)", spec{Out: answers(200, clipJSON{})}},
		{"DELETE", "/v1/clips/{id}", creators, (*Server).deleteClip, "delete a clip (its creator)", spec{Out: []reply{{Status: 204}}}},
		{"GET", "/v1/clips/{id}/media/{gen}/{file...}", anyone, (*Server).serveMedia, "HLS playlists, segments, poster and MP4", spec{Out: fileReplies("application/vnd.apple.mpegurl, video/iso.segment, video/mp4, image/jpeg, text/vtt")}},
		{"GET", "/v1/clips/{id}/share/{file}", anyone, (*Server).serveShare, "the share MP4 with the pop-ups burned in", spec{Out: fileReplies("video/mp4")}},
		{"GET", "/v1/clips/{id}/popups", anyone, (*Server).popups, "the pop-ups live now: the clip's active tags, at most " + maxPopupsDoc + ", by start", spec{Out: kept(popupList{})}},
		{"GET", "/v1/clips/{id}/overlays.vtt", anyone, (*Server).overlaysVTT, "the pop-up timeline as WebVTT metadata", spec{Out: []reply{{Status: 200, Body: "", Type: "text/vtt"}, {Status: 304}}}},
		{"GET", "/v1/feed", anyone, (*Server).feed, "ready clips, newest first (cursor pagination)", spec{
			Query: []param{{Name: "cursor", Type: "", Doc: "next_cursor of the previous page; none for the first"}, {Name: "limit", Type: 0, Doc: "clips per page, 1 to 100 (default 20)"}},
			Out:   kept(feedPage{}),
			Errs:  []int{400},
		}},

		{"GET", "/v1/search", anyone, (*Server).search, "ready clips whose title, or a tagged product's, matches every word of q (prefixes too)", spec{
			Query: []param{{Name: "q", Type: "", Doc: "the words to find, at most 200 bytes", Required: true}, {Name: "limit", Type: 0, Doc: "clips, 1 to 100 (default 20)"}},
			Out:   kept(searchResult{}),
			Errs:  []int{400},
		}},
		{"GET", "/v1/deals", anyone, (*Server).deals, "clips with a live, honest discount: flash sales first, then the soonest ending", spec{
			Query: []param{{Name: "limit", Type: 0, Doc: "deals, 1 to 100 (default 30)"}},
			Out:   kept(dealList{}),
			Errs:  []int{400},
		}},

		{"POST", "/v1/products", brands, (*Server).createProduct, "add a product to the caller's catalog", spec{Body: productInput{}, Out: answers(201, shopclip.Product{})}},
		{"GET", "/v1/products", brands, (*Server).listProducts, "the caller's catalog, newest first (cursor pagination)", spec{Query: pageQuery("products"), Out: answers(200, productList{}), Errs: []int{400}}},
		{"GET", "/v1/products/{id}", brands, (*Server).getProduct, "a product (its brand)", spec{Out: answers(200, shopclip.Product{})}},
		{"PATCH", "/v1/products/{id}", brands, (*Server).patchProduct, "change a product (its brand); re-labels its clips", spec{Body: productPatch{}, Out: answers(200, shopclip.Product{}), Errs: []int{409}}},
		{"POST", "/v1/products/{id}/discounts", brands, (*Server).createDiscount, "add a discount (its brand); re-labels its clips", spec{Body: discountInput{}, Out: answers(201, shopclip.Discount{})}},
		{"GET", "/v1/products/{id}/discounts", brands, (*Server).listDiscounts, "a product's discounts (its brand)", spec{Out: answers(200, discountList{})}},
		{"PUT", "/v1/products/{id}/image", brands, (*Server).putProductImage, "upload the product's picture (its brand): JPEG, PNG, WebP or GIF, at most 10 MiB and 40 megapixels; kept as a square JPEG of at most 512 px that image_url links; re-labels its clips", spec{Raw: "image/*", Out: answers(200, shopclip.Product{}), Errs: []int{400, 413, 415}}},
		{"DELETE", "/v1/products/{id}/image", brands, (*Server).deleteProductImage, "remove the product's picture and image_url (its brand); re-labels its clips", spec{Out: []reply{{Status: 204}}}},
		{"GET", "/v1/products/{id}/image/{file}", anyone, (*Server).serveProductImage, "an uploaded product picture, as image_url links it (immutable)", spec{Out: []reply{{Status: 200, Body: rawBytes{}, Type: "image/jpeg"}, {Status: 206, Body: rawBytes{}, Type: "image/jpeg"}, {Status: 304}}}},

		{"POST", "/v1/clips/{id}/tags", brands, (*Server).createTag, "tag a product into a clip " + tagQuotaDoc, spec{Body: tagInput{}, Out: answers(202, shopclip.Tag{}), Errs: []int{409}}},
		{"GET", "/v1/clips/{id}/tags", members, (*Server).listTags, "a clip's tags by start (all to its creator, own to a brand; cursor pagination)", spec{Query: pageQuery("tags"), Out: answers(200, tagList{}), Errs: []int{400}}},
		{"POST", "/v1/clips/{id}/tags/{tag_id}/approve", creators, (*Server).approveTag, "approve a tag (the clip's creator; 409 when a rejected tag would exceed a tag quota)", spec{Body: approveInput{}, BodyOptional: true, Out: answers(200, shopclip.Tag{}), Errs: []int{409}}},
		{"POST", "/v1/clips/{id}/tags/{tag_id}/reject", creators, (*Server).rejectTag, "reject a tag (the clip's creator)", spec{Out: answers(200, shopclip.Tag{})}},
		{"GET", "/v1/buy/{tag_id}", anyone, (*Server).buy, "302 to the product's store; counts the click (?session= for attribution)", spec{
			Query: []param{{Name: "session", Type: "", Doc: "the player's session ID, to deduplicate the click and attribute purchases"}},
			Out:   []reply{{Status: 302}},
			Errs:  []int{429},
		}},

		{"GET", "/v1/me/approved-brands", creators, (*Server).listApprovedBrands, "brands the caller approved for good, in the order of approval (cursor pagination)", spec{Query: pageQuery("brands"), Out: answers(200, brandList{}), Errs: []int{400}}},
		{"POST", "/v1/me/approved-brands", creators, (*Server).approveBrand, "approve a brand for good: its future tags are active at once", spec{Body: brandApproval{}, Out: answers(201, brandRef{})}},
		{"DELETE", "/v1/me/approved-brands/{brand_id}", creators, (*Server).revokeBrand, "withdraw a standing approval", spec{Out: []reply{{Status: 204}}}},

		{"POST", "/v1/events", anyone, (*Server).postEvent, "a viewer's view, impression or click; a brand's purchase (brand key)", spec{
			Body: eventInput{},
			// 202: a viewer event; 201 and 200: a purchase, new or reported before.
			Out:  []reply{{Status: 202, Body: eventResult{}}, {Status: 201, Body: eventResult{}}, {Status: 200, Body: eventResult{}}},
			Errs: []int{403, 409, 429},
		}},
		{"GET", "/v1/clips/{id}/stats", members, (*Server).clipStats, "a clip's funnel: all tags to its creator, its own to each brand", spec{Out: answers(200, statsJSON{})}},
		{"GET", "/v1/products/{id}/stats", brands, (*Server).productStats, "a product's funnel per tag (its brand)", spec{Out: answers(200, statsJSON{})}},
		{"GET", "/v1/clips/{id}/stats/daily", members, (*Server).clipDailyStats, "a clip's funnel per UTC day: all tags to its creator, its own to each brand", spec{Query: dailyStatsQuery, Out: answers(200, dailyStatsJSON{}), Errs: []int{400, 503}}},
		{"GET", "/v1/products/{id}/stats/daily", brands, (*Server).productDailyStats, "a product's funnel per UTC day, over every clip it is tagged in (its brand)", spec{Query: dailyStatsQuery, Out: answers(200, dailyStatsJSON{}), Errs: []int{400, 503}}},
		{"GET", "/v1/me/stats/daily", members, (*Server).myDailyStats, "the caller's funnel per UTC day: a creator's over its clips, a brand's over its products", spec{Query: dailyStatsQuery, Out: answers(200, dailyStatsJSON{}), Errs: []int{400, 403, 503}}},

		{"POST", "/v1/webhooks", members, (*Server).createWebhook, "register a webhook endpoint: a URL and the events it wants; the answer holds its signing secret (whsec_…), shown once", spec{Body: webhookInput{}, Out: answers(201, webhookJSON{}), Errs: []int{400, 503}}},
		{"GET", "/v1/webhooks", members, (*Server).listWebhooks, "the caller's webhook endpoints (disabled ones with the reason)", spec{Out: answers(200, webhookList{}), Errs: []int{503}}},
		{"GET", "/v1/webhooks/{id}", members, (*Server).getWebhook, "one of the caller's webhook endpoints", spec{Out: answers(200, webhookJSON{}), Errs: []int{503}}},
		{"DELETE", "/v1/webhooks/{id}", members, (*Server).deleteWebhook, "delete a webhook endpoint with its deliveries", spec{Out: []reply{{Status: 204}}, Errs: []int{503}}},
		{"POST", "/v1/webhooks/{id}/rotate", members, (*Server).rotateWebhook, "a new signing secret (shown once); the old one still signs beside it for 24 hours", spec{Out: answers(200, webhookJSON{}), Errs: []int{503}}},
		{"POST", "/v1/webhooks/{id}/enable", members, (*Server).enableWebhook, "deliver again to an endpoint disabled for failing (replay what it missed)", spec{Out: answers(200, webhookJSON{}), Errs: []int{503}}},
		{"GET", "/v1/webhooks/{id}/deliveries", members, (*Server).webhookDeliveries, "an endpoint's latest deliveries, newest first, each with every attempt (status, latency, the start of the answer)", spec{Query: []param{{Name: "limit", Type: 0, Doc: "deliveries, 1 to 100 (default 20)"}}, Out: answers(200, deliveryList{}), Errs: []int{400, 503}}},
		{"POST", "/v1/webhooks/{id}/deliveries/{d}/replay", members, (*Server).replayDelivery, "deliver again, with the same webhook-id (409 when the endpoint is disabled)", spec{Out: answers(202, deliveryJSON{}), Errs: []int{409, 503}}},
	}
}
