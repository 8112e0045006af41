package storefront

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/productimage"
)

// Product pictures. A brand uploads a picture of a product (PUT
// /v1/products/{id}/image); package productimage makes it a square JPEG of
// at most 512 pixels a side, which is kept under a key named by its content
// (shopclip.ProductImageKey) and served at a URL that never changes what it
// shows, so it is cached for good. The product's image_url points there, so
// players' pop-ups and the share MP4's cards show it.

// imageSlots bounds the uploaded pictures this process decodes at once:
// decoding one of the largest accepted takes a few hundred MB.
var imageSlots = make(chan struct{}, 2)

// imageCacheControl is how long a picture may be cached: for good, as its
// URL names its content.
const imageCacheControl = "public, max-age=31536000, immutable"

// putProductImage stores the body, a picture, as the product's image,
// replaces the previous uploaded one and re-labels the product's clips.
func (s *Server) putProductImage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") || mt == "application/x-www-form-urlencoded" {
		return shopclip.Errorf(shopclip.EUNSUPPORTED, "Send the picture's bytes as the body, not a form: %s.", productimage.Accepted)
	}
	if r.ContentLength > productimage.MaxBytes {
		return imageTooLarge()
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, productimage.MaxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return imageTooLarge()
		}
		return shopclip.Errorf(shopclip.EINVALID, "The upload ended early.")
	}
	select {
	case imageSlots <- struct{}{}:
	case <-r.Context().Done():
		return shopclip.Errorf(shopclip.EINVALID, "The upload was interrupted.")
	}
	jpg, err := productimage.Normalize(data, productimage.Options{})
	<-imageSlots
	if err != nil {
		return err
	}
	sum := sha256.Sum256(jpg)
	file := shopclip.ProductImageFile(hex.EncodeToString(sum[:]))
	key := shopclip.ProductImageKey(p.ID, file)
	if err := s.Blobs.Put(r.Context(), key, bytes.NewReader(jpg), int64(len(jpg)), blob.PutOptions{ContentType: "image/jpeg"}); err != nil {
		return err
	}
	old, hadOld := shopclip.ProductImageKeyOf(p.ID, p.ImageURL)
	p.ImageURL = s.url(shopclip.ProductImagePath(p.ID, file))
	if err := s.Store.UpdateProduct(r.Context(), p); err != nil {
		if !hadOld || old != key { // the same picture again: it is still in use
			s.deleteBlob(r, key)
		}
		return err
	}
	if hadOld && old != key {
		s.deleteBlob(r, old)
	}
	s.relabel(r, p.ID)
	return writeJSON(w, http.StatusOK, p)
}

func imageTooLarge() error {
	return shopclip.Errorf(shopclip.ETOOLARGE, "The picture is larger than %s; send a smaller one (512 pixels a side is all that is kept).", humanBytes(productimage.MaxBytes))
}

// deleteProductImage removes the product's image: its image_url, and the
// uploaded picture it pointed to. A product without an image answers the
// same.
func (s *Server) deleteProductImage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	if p.ImageURL != "" {
		key, ours := shopclip.ProductImageKeyOf(p.ID, p.ImageURL)
		p.ImageURL = ""
		if err := s.Store.UpdateProduct(r.Context(), p); err != nil {
			return err
		}
		if ours {
			s.deleteBlob(r, key)
		}
		s.relabel(r, p.ID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveProductImage serves an uploaded picture by the name in its URL,
// from this server (they are small), with immutable caching: a new picture
// has a new name.
func (s *Server) serveProductImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", shopclip.PrefixProduct, "Product")
	if err != nil {
		return err
	}
	file := r.PathValue("file")
	if !shopclip.ValidProductImageFile(file) {
		return notFound("Image", file)
	}
	obj, err := s.Blobs.Open(r.Context(), shopclip.ProductImageKey(id, file))
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return notFound("Image", file)
	} else if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Cache-Control", imageCacheControl)
	h.Set("Content-Type", "image/jpeg")
	h.Set("ETag", `"`+strings.TrimSuffix(strings.TrimPrefix(file, "image-"), ".jpg")+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", obj.Info().ModTime, obj)
	return nil
}
