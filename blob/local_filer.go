package blob

// LocalFiler is implemented by stores that keep each object as a file on
// this machine (blob/local). Callers may hard-link or read the file instead
// of copying the object through Open, but must never write to it.
type LocalFiler interface {
	// LocalPath returns the path of the file holding the object under key,
	// or an error with code ENOTFOUND when there is none.
	LocalPath(key string) (string, error)
}
