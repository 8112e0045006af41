package store_test

import (
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store/storetest"
)

func TestSQLiteWebhooks(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T) (shopclip.Store, shopclip.Webhooks) {
		db := openSQLite(t)
		return db, db
	})
}

func TestPostgresWebhooks(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T) (shopclip.Store, shopclip.Webhooks) {
		db := openPostgres(t)
		return db, db
	})
}
