package shopclip_test

import (
	"testing"

	"github.com/shopclip/shopclip"
)

func TestSearchTerms(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"  Summer   DRESS ", []string{"summer", "dress"}},
		{`"summer"* OR title:dress -x NEAR(a b)`, []string{"summer", "or", "title", "dress", "x", "near", "a", "b"}},
		{"' OR 1=1 --", []string{"or", "1", "1"}},
		{"夏季连衣裙, café", []string{"夏季连衣裙", "café"}},
		{"a\x00b\xffc", []string{"a", "b", "c"}},
		{"1 2 3 4 5 6 7 8 9 10", []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
	}
	for _, tt := range tests {
		got := shopclip.SearchTerms(tt.query)
		if len(got) != len(tt.want) {
			t.Errorf("SearchTerms(%q) = %q, want %q", tt.query, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("SearchTerms(%q) = %q, want %q", tt.query, got, tt.want)
				break
			}
		}
	}
	long := shopclip.SearchTerms(string(make([]rune, 0)) + "ééééééééééééééééééééééééééééééééééééééééé")
	if len(long) != 1 || len(long[0]) > 64 {
		t.Errorf("a long term is not cut to 64 bytes: %q", long)
	}
}
