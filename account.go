package shopclip

import "time"

// Role is what an account may do.
type Role string

// Roles. Creators upload clips and approve tags; brands keep a catalog and tag
// products into clips; admins may act on any object.
const (
	RoleCreator Role = "creator"
	RoleBrand   Role = "brand"
	RoleAdmin   Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleCreator || r == RoleBrand || r == RoleAdmin
}

// Account is a creator, a brand or an admin. It authenticates with API keys,
// which the store keeps only as hashes.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// Disabled accounts sign in no more (see Identity).
	Disabled bool `json:"disabled,omitempty"`
}

// Validate reports whether a is fit to be created.
func (a *Account) Validate() error {
	if !a.Role.Valid() {
		return Errorf(EINVALID, "Role must be creator, brand or admin, not %q.", a.Role)
	} else if a.Name == "" {
		return Errorf(EINVALID, "Name is required.")
	} else if len(a.Name) > 200 {
		return Errorf(EINVALID, "Name must be at most 200 bytes.")
	}
	return nil
}
