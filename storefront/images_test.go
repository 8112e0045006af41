package storefront_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/workers"
)

// picture returns a w×h picture: red on the left half, blue on the right.
func picture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpBytes is a 96×64 WebP made with libwebp (see its README).
func webpBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../productimage/testdata/halves-lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngBomb is a PNG header declaring w×h pixels, with no picture data.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(ihdr)))
	chunk = append(append(chunk, "IHDR"...), ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

// putImage uploads data as the picture of product id, as user.
func (e *env) putImage(user, id string, data []byte, contentType string) response {
	e.t.Helper()
	return e.do(user, "PUT", "/v1/products/"+id+"/image", bytes.NewReader(data), "Content-Type", contentType)
}

// imageURLPattern is an uploaded picture's image_url without a public URL.
var imageURLPattern = regexp.MustCompile(`^/v1/products/prd_[a-z2-7]{26}/image/image-[0-9a-f]{20}\.jpg$`)

// uploadedImage uploads data as acme's picture of p and returns the
// product the API answers with.
func (e *env) uploadedImage(p *shopclip.Product, data []byte, contentType string) *shopclip.Product {
	e.t.Helper()
	resp := e.putImage("acme", p.ID, data, contentType)
	if resp.Status != http.StatusOK {
		e.t.Fatalf("PUT image: %d %s", resp.Status, resp.Body)
	}
	var got shopclip.Product
	resp.json(e.t, &got)
	if !imageURLPattern.MatchString(got.ImageURL) || !strings.Contains(got.ImageURL, p.ID) {
		e.t.Fatalf("image_url = %q, want this product's uploaded picture", got.ImageURL)
	}
	return &got
}

func TestProductImageUpload(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, contentType string
		data              []byte
		wantSide          int
	}{
		{"png, landscape", "image/png", pngBytes(t, picture(1200, 800)), 512},
		{"jpeg, portrait", "image/jpeg", jpegBytes(t, picture(700, 900)), 512},
		{"gif, small: not upscaled", "image/gif", gifBytes(t, picture(300, 200)), 200},
		{"webp", "image/webp", webpBytes(t), 64},
		{"png sent as image/jpeg: the bytes decide", "image/jpeg", pngBytes(t, picture(600, 600)), 512},
		{"no content type", "", pngBytes(t, picture(520, 530)), 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.product("acme", 1000)
			got := e.uploadedImage(p, tt.data, tt.contentType)
			if got.ID != p.ID || got.Title != p.Title || got.PriceMinor != p.PriceMinor {
				t.Errorf("product %+v, want %+v with a new image_url", got, p)
			}
			var again shopclip.Product
			e.do("acme", "GET", "/v1/products/"+p.ID, nil).json(t, &again)
			if again.ImageURL != got.ImageURL {
				t.Errorf("GET product: image_url %q, want %q", again.ImageURL, got.ImageURL)
			}

			resp := e.do("", "GET", got.ImageURL, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("GET image: %d %s", resp.Status, resp.Body)
			}
			for h, want := range map[string]string{
				"Content-Type":                "image/jpeg",
				"Cache-Control":               "public, max-age=31536000, immutable",
				"X-Content-Type-Options":      "nosniff",
				"Access-Control-Allow-Origin": "*",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			etag := resp.Header.Get("ETag")
			if hash := strings.TrimSuffix(got.ImageURL[strings.LastIndex(got.ImageURL, "-")+1:], ".jpg"); etag != `"`+hash+`"` {
				t.Errorf("ETag = %s, want the name's hash %q", etag, hash)
			}
			img, err := jpeg.Decode(bytes.NewReader(resp.Body))
			if err != nil {
				t.Fatalf("the served picture is not a JPEG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.wantSide || b.Dy() != tt.wantSide {
				t.Errorf("served %v, want %d×%d", b, tt.wantSide, tt.wantSide)
			}
			if resp := e.do("", "GET", got.ImageURL, nil, "If-None-Match", etag); resp.Status != http.StatusNotModified {
				t.Errorf("GET with If-None-Match: %d, want 304", resp.Status)
			}
		})
	}
}

func TestProductImageRefusals(t *testing.T) {
	e := newEnv(t)
	p := e.product("acme", 1000)
	good := pngBytes(t, picture(64, 64))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "p.png")
	fw.Write(good)
	mw.Close()
	tests := []struct {
		name, user, contentType string
		data                    []byte
		status                  int
		code                    string
	}{
		{"another brand's product", "globex", "image/png", good, 404, shopclip.ENOTFOUND},
		{"a creator", "alice", "image/png", good, 403, shopclip.EFORBIDDEN},
		{"no key", "", "image/png", good, 401, shopclip.EUNAUTHORIZED},
		{"a text file", "acme", "text/plain", []byte("not a picture at all"), 415, shopclip.EUNSUPPORTED},
		{"an SVG (it can carry script)", "acme", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415, shopclip.EUNSUPPORTED},
		{"a form", "acme", mw.FormDataContentType(), form.Bytes(), 415, shopclip.EUNSUPPORTED},
		{"a decompression bomb", "acme", "image/png", pngBomb(100000, 100000), 413, shopclip.ETOOLARGE},
		{"over 10 MiB", "acme", "image/png", append(bytes.Clone(good), make([]byte, 10<<20)...), 413, shopclip.ETOOLARGE},
		{"empty", "acme", "image/png", nil, 400, shopclip.EINVALID},
		{"damaged", "acme", "image/png", good[:len(good)/2], 400, shopclip.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.putImage(tt.user, p.ID, tt.data, tt.contentType)
			if resp.Status != tt.status || resp.errCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", resp.Status, resp.Body, tt.status, tt.code)
			}
			if tt.status == 415 && tt.user == "acme" && !strings.Contains(resp.errMessage(), "image/jpeg, image/png, image/webp, image/gif") {
				t.Errorf("message %q does not name the accepted types", resp.errMessage())
			}
			if tt.status == 413 && !strings.Contains(resp.errMessage(), "10 MiB") && !strings.Contains(resp.errMessage(), "megapixels") {
				t.Errorf("message %q does not say the limit", resp.errMessage())
			}
		})
	}
	// A body of unknown length is cut off at the limit.
	chunked := struct{ io.Reader }{io.MultiReader(bytes.NewReader(good), bytes.NewReader(make([]byte, 10<<20)))}
	if resp := e.do("acme", "PUT", "/v1/products/"+p.ID+"/image", chunked, "Content-Type", "image/png"); resp.Status != 413 {
		t.Errorf("over 10 MiB, chunked: %d %s", resp.Status, resp.Body)
	}
	var after shopclip.Product
	e.do("acme", "GET", "/v1/products/"+p.ID, nil).json(t, &after)
	if after.ImageURL != p.ImageURL {
		t.Errorf("image_url %q after refusals, want %q", after.ImageURL, p.ImageURL)
	}
	if objs, _ := e.blobs.List(context.Background(), "products/"); len(objs) != 0 {
		t.Errorf("refused uploads left %d objects", len(objs))
	}
	// The route admits the product's brand only; DELETE too.
	if resp := e.do("globex", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 404 {
		t.Errorf("DELETE by another brand: %d", resp.Status)
	}
	if resp := e.do("alice", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 403 {
		t.Errorf("DELETE by a creator: %d", resp.Status)
	}
	if resp := e.do("", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 401 {
		t.Errorf("DELETE without a key: %d", resp.Status)
	}
	// Names that are not uploaded pictures are not found.
	for _, path := range []string{
		"/v1/products/" + p.ID + "/image/image-0123456789abcdef0123.jpg",
		"/v1/products/" + p.ID + "/image/..%2f..%2foriginals",
		"/v1/products/" + p.ID + "/image/image-XYZ.jpg",
		"/v1/products/nope/image/image-0123456789abcdef0123.jpg",
	} {
		if resp := e.do("", "GET", path, nil); resp.Status != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.Status)
		}
	}
}

func TestProductImageReplaceAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.product("acme", 1000)
	key := func(p *shopclip.Product) string {
		t.Helper()
		k, ok := shopclip.ProductImageKeyOf(p.ID, p.ImageURL)
		if !ok {
			t.Fatalf("image_url %q is not an uploaded picture", p.ImageURL)
		}
		return k
	}
	first := e.uploadedImage(p, pngBytes(t, picture(600, 600)), "image/png")
	if _, err := e.blobs.Stat(ctx, key(first)); err != nil {
		t.Fatalf("the uploaded picture is not stored: %v", err)
	}
	// The same picture again: the same name, still there.
	if same := e.uploadedImage(p, pngBytes(t, picture(600, 600)), "image/png"); same.ImageURL != first.ImageURL {
		t.Errorf("the same picture got a new URL: %q → %q", first.ImageURL, same.ImageURL)
	}
	if _, err := e.blobs.Stat(ctx, key(first)); err != nil {
		t.Fatalf("re-uploading the same picture deleted it: %v", err)
	}

	// Other changes to the product keep the picture (image_url is a path
	// here, with no public URL configured).
	if resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"title": "Sneaker, v2"}); resp.Status != 200 {
		t.Fatalf("PATCH after an upload: %d %s", resp.Status, resp.Body)
	}
	// A path is only accepted for the product's own uploaded picture.
	other := e.product("acme", 500)
	if resp := e.do("acme", "PATCH", "/v1/products/"+other.ID, map[string]any{"image_url": first.ImageURL}); resp.Status != 400 {
		t.Errorf("PATCH another product's picture path in: %d %s", resp.Status, resp.Body)
	}

	second := e.uploadedImage(p, jpegBytes(t, picture(900, 600)), "image/jpeg")
	if second.ImageURL == first.ImageURL {
		t.Fatalf("a new picture kept the URL %q", first.ImageURL)
	}
	if _, err := e.blobs.Stat(ctx, key(first)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the replaced picture is still stored: %v", err)
	}
	if resp := e.do("", "GET", first.ImageURL, nil); resp.Status != 404 {
		t.Errorf("GET the replaced picture: %d, want 404", resp.Status)
	}
	if resp := e.do("", "GET", second.ImageURL, nil); resp.Status != 200 {
		t.Errorf("GET the new picture: %d", resp.Status)
	}

	if resp := e.do("acme", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 204 {
		t.Fatalf("DELETE: %d %s", resp.Status, resp.Body)
	}
	var gone shopclip.Product
	e.do("acme", "GET", "/v1/products/"+p.ID, nil).json(t, &gone)
	if gone.ImageURL != "" {
		t.Errorf("image_url after DELETE = %q", gone.ImageURL)
	}
	if objs, _ := e.blobs.List(ctx, "products/"+p.ID+"/"); len(objs) != 0 {
		t.Errorf("%d objects left after DELETE", len(objs))
	}
	if resp := e.do("acme", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 204 {
		t.Errorf("DELETE again: %d", resp.Status)
	}
}

// TestProductImageInPopups checks that viewers see a new picture at once
// and that the product's clips are re-labelled, as PATCH does.
func TestProductImageInPopups(t *testing.T) {
	e := newEnv(t)
	clip, p, _ := e.tagged()
	// The tagging's changes share one waiting task; without it, the
	// upload must enqueue one.
	if err := e.inspector.DeleteTask(workers.QueueTag, workers.TagTaskID(clip.ID)); err != nil {
		t.Fatal(err)
	}
	got := e.uploadedImage(p, pngBytes(t, picture(800, 800)), "image/png")
	if pending, _ := e.inspector.ListPendingTasks(workers.QueueTag); len(pending) != 1 || pending[0].ID != workers.TagTaskID(clip.ID) {
		t.Errorf("after the upload, %d clip:tag tasks pending, want the clip's one", len(pending))
	}
	pops := e.popups(clip.ID)
	if len(pops) != 1 || pops[0].Product.ImageURL != got.ImageURL {
		t.Fatalf("pop-ups %+v, want one with image_url %q", pops, got.ImageURL)
	}
	if resp := e.do("", "GET", pops[0].Product.ImageURL, nil); resp.Status != 200 {
		t.Errorf("the pop-up's picture: %d", resp.Status)
	}
	if resp := e.do("acme", "DELETE", "/v1/products/"+p.ID+"/image", nil); resp.Status != 204 {
		t.Fatalf("DELETE: %d", resp.Status)
	}
	if pops := e.popups(clip.ID); len(pops) != 1 || pops[0].Product.ImageURL != "" {
		t.Errorf("pop-ups after DELETE: %+v", pops)
	}
}

// TestProductImageURLs checks that image URLs parse back to the keys
// they were made from, and nothing else does.
func TestProductImageURLs(t *testing.T) {
	id, other := shopclip.NewID(shopclip.PrefixProduct), shopclip.NewID(shopclip.PrefixProduct)
	file := shopclip.ProductImageFile("0123456789abcdef0123456789abcdef")
	path := shopclip.ProductImagePath(id, file)
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"path", path, true},
		{"absolute", "https://shop.example" + path, true},
		{"http with a port", "http://localhost:8080" + path, true},
		{"another product's", shopclip.ProductImagePath(other, file), false},
		{"with a query", path + "?x=1", false},
		{"with a fragment", path + "#x", false},
		{"escaped", strings.Replace(path, "image-", "image%2D", 1), false},
		{"with a user", "https://u:p@shop.example" + path, false},
		{"ftp", "ftp://shop.example" + path, false},
		{"scheme-relative", "//shop.example" + path, false},
		{"not hex", shopclip.ProductImagePath(id, "image-xyz.jpg"), false},
		{"upper-case hex", shopclip.ProductImagePath(id, "image-ABCDEF.jpg"), false},
		{"not a jpg", shopclip.ProductImagePath(id, "image-0123.png"), false},
		{"a deeper path", path + "/x", false},
		{"traversal", shopclip.ProductImagePath(id, "../image-0123.jpg"), false},
		{"external", "https://cdn.example.com/p/1.jpg", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, ok := shopclip.ProductImageKeyOf(id, tt.url)
			if ok != tt.ok {
				t.Fatalf("ProductImageKeyOf(%q) = %q, %v; want ok %v", tt.url, key, ok, tt.ok)
			}
			if ok && key != shopclip.ProductImageKey(id, file) {
				t.Errorf("key %q, want %q", key, shopclip.ProductImageKey(id, file))
			}
		})
	}
	if file != "image-0123456789abcdef0123.jpg" || !shopclip.ValidProductImageFile(file) {
		t.Errorf("ProductImageFile = %q", file)
	}
}
