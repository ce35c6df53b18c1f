package termsafe

import (
	"fmt"
	"unicode/utf8"
)

// Quoted rewrites, as \uXXXX escapes, the runes that String would escape
// and that JSON and YAML encoders write raw: DEL, the C1 controls, the
// bidirectional overrides (and any C0 control left raw). A terminal could
// act on those even in -o json output. Both formats read \uXXXX inside a
// double-quoted string as the rune itself, so the document stays lossless;
// the caller makes sure every such rune is inside one (JSON's are; YAML's
// are when the scalar is written double-quoted). Line feeds and tabs,
// which encoders use for layout, are kept.
func Quoted(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == '\n' || r == '\t' || !unsafe(r) {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		out = fmt.Appendf(out, `\u%04x`, r)
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

// Unsafe reports whether s holds a rune that String would escape.
func Unsafe(s string) bool { return firstUnsafe(s) >= 0 }
