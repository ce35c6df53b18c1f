package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character made visible, the way
// kubectl's printers.EscapeTerminal shows ESC as "^[" and CR as "\r".
// That function leaves BEL, backspace, the other C0 controls and the C1
// controls (U+0080–U+009F, which some terminals take as CSI or OSC) raw,
// so this one covers them all:
//   - \n, \r, \t as those two-character escapes;
//   - the other C0 controls and DEL in caret notation (^[, ^G, ^?);
//   - C1 controls and the bidirectional overrides and isolates, which can
//     reorder what is shown (Trojan Source), as \uXXXX;
//   - bytes that are not UTF-8, which a terminal in another encoding may
//     read as controls, as \xXX.
//
// Printable text, including non-ASCII letters, is unchanged, and s is
// returned as is when it needs no escaping.
func String(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(escapeRune(r))
		}
		i += size
	}
	return b.String()
}

// firstUnsafe is the index of the first byte String must rewrite, or -1.
func firstUnsafe(s string) int {
	for i, r := range s {
		if unsafe(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return i
		}
	}
	return -1
}

func escapeRune(r rune) string {
	switch {
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r < 0x20:
		return "^" + string(rune(r+'@'))
	case r == 0x7f:
		return "^?"
	case unsafe(r):
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// unsafe reports whether a terminal could act on r instead of showing it.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1: CSI is U+009B, OSC U+009D
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
