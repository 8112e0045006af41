// Package shopclip is the domain of shoppable short video: creators' clips and
// their renditions, brands' products and discounts, the tags that place
// products in clips, and the pop-ups viewers see. It imports only the standard
// library; adapters (storefront, workers, store, blob, transcode) depend on it.
package shopclip
