package card

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/math/fixed"
)

// maxRunes bounds the text a card lays out: two lines at the card's sizes
// hold far fewer runes, so longer titles are cut before they are measured.
const maxRunes = 512

// ellipsis ends text cut to fit.
const ellipsis = "…"

// clean makes untrusted text drawable: invalid UTF-8 and control and format
// characters (bidi overrides, zero-width joiners) and variation selectors go,
// runs of white space become one space, and the result is trimmed and at
// most maxRunes long. There is no bidi reordering or shaping: right-to-left
// scripts are drawn left to right, one glyph per rune.
func clean(s string) []rune {
	rs := make([]rune, 0, min(len(s), maxRunes))
	space := false
	for i, r := range s {
		if len(rs) >= maxRunes {
			break
		}
		switch {
		case r == utf8.RuneError:
			_, n := utf8.DecodeRuneInString(s[i:])
			if n == 1 { // an invalid byte; a real U+FFFD is kept
				continue
			}
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
			continue
		}
		if space && len(rs) > 0 {
			rs = append(rs, ' ')
		}
		space = false
		rs = append(rs, r)
	}
	return rs
}

// wrap breaks rs into at most maxLines lines no wider than maxW, between
// words or between CJK characters (a word too long for a line is broken
// anywhere). When rs does not fit, the last line ends with an ellipsis.
func (f *face) wrap(rs []rune, maxW float64, maxLines int) []string {
	gs := f.shape(rs)
	limit := toFixed(maxW)
	var lines []string
	start := 0
	for len(lines) < maxLines {
		for start < len(gs) && gs[start].r == ' ' {
			start++
		}
		if start == len(gs) {
			break
		}
		var w fixed.Int26_6
		brk := -1 // where the next line starts when this one breaks at a word
		i := start
		for ; i < len(gs); i++ {
			add := gs[i].adv
			if i > start {
				add += gs[i].kern
				if canBreak(rs[i-1], rs[i]) {
					brk = i
				}
			}
			if w+add > limit && i > start && rs[i] != ' ' {
				break
			}
			w += add
		}
		if i == len(gs) {
			lines = append(lines, strings.TrimRight(string(rs[start:]), " "))
			break
		}
		if len(lines) == maxLines-1 {
			lines = append(lines, f.ellipsize(gs[start:], limit))
			break
		}
		if brk <= start {
			brk = i
		}
		lines = append(lines, strings.TrimRight(string(rs[start:brk]), " "))
		start = brk
	}
	return lines
}

// ellipsize returns the longest start of gs that fits in limit with an
// ellipsis after it, and the ellipsis. It cuts between words when that keeps
// most of the line, else anywhere.
func (f *face) ellipsize(gs []glyph, limit fixed.Int26_6) string {
	room := limit - width(f.shape([]rune(ellipsis)))
	var w, wBrk fixed.Int26_6
	n, brk := 0, 0
	for i, g := range gs {
		add := g.adv
		if i > 0 {
			add += g.kern
			if canBreak(gs[i-1].r, g.r) {
				brk, wBrk = i, w
			}
		}
		if w+add > room {
			break
		}
		w += add
		n = i + 1
	}
	if n < len(gs) && brk > 0 && wBrk >= room*2/3 {
		n = brk
	}
	var b strings.Builder
	for _, g := range gs[:n] {
		b.WriteRune(g.r)
	}
	return strings.TrimRight(b.String(), " ") + ellipsis
}

// fit returns s, or its longest start that fits in maxW followed by an
// ellipsis.
func (f *face) fit(s string, maxW float64) string {
	gs := f.shape([]rune(s))
	if toFloat(width(gs)) <= maxW {
		return s
	}
	return f.ellipsize(gs, toFixed(maxW))
}

// canBreak reports whether a line may break between a and b.
func canBreak(a, b rune) bool {
	switch {
	case b == ' ':
		return false
	case a == ' ', a == '-' && b != '-', a == '/':
		return true
	case noBreakBefore(b) || noBreakAfter(a):
		return false
	}
	return isCJK(a) || isCJK(b)
}

// isCJK reports whether r belongs to a script written without spaces, where
// a line may break between any two characters.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303f) || // CJK symbols and punctuation
		(r >= 0xff00 && r <= 0xffef) // half- and full-width forms
}

// noBreakBefore and noBreakAfter are the common closing and opening
// punctuation that stays with its neighbour (the core of CJK kinsoku rules).
func noBreakBefore(r rune) bool {
	return strings.ContainsRune("、。，．：；？！）」』】〉》〕ー・…,.:;?!)]}%", r)
}

func noBreakAfter(r rune) bool {
	return strings.ContainsRune("（「『【〈《〔([{", r)
}
