package webhooks_test

import (
	"testing"

	"github.com/shopclip/shopclip/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
