package iptables

import (
	"errors"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// errOpenQuote means a line ended inside a double-quoted argument.
var errOpenQuote = errors.New("unterminated double quote")

// splitArgs splits one rule line into arguments the way iptables-restore does
// (add_param_to_argv in iptables' xshared.c): spaces and tabs separate, a
// double quote opens or closes a quoted part anywhere in a word, and inside
// quotes a backslash takes the next character literally. Single quotes are
// ordinary characters. Unquoted words are returned as substrings of line.
func splitArgs(line string, dst []string) ([]string, error) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		start := i
		for i < len(line) && !isSpace(line[i]) && line[i] != '"' {
			i++
		}
		if i == len(line) || isSpace(line[i]) {
			dst = append(dst, line[start:i])
			continue
		}
		word, next, err := quotedWord(line, start)
		if err != nil {
			return dst, err
		}
		dst = append(dst, word)
		i = next
	}
	return dst, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// quotedWord reads a word starting at start that contains at least one
// double quote, returning the unquoted word and the index after it.
func quotedWord(line string, start int) (string, int, error) {
	// The common case, "text" with no escapes, is a substring of line.
	if line[start] == '"' {
		if end := strings.IndexByte(line[start+1:], '"') + start + 1; end > start &&
			strings.IndexByte(line[start:end], '\\') < 0 && (end+1 == len(line) || isSpace(line[end+1])) {
			return line[start+1 : end], end + 1, nil
		}
	}
	var b strings.Builder
	open := false
	i := start
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case open && c == '\\':
			i++
			if i == len(line) {
				return "", i, errOpenQuote
			}
			b.WriteByte(line[i])
		case c == '"':
			open = !open
		case !open && isSpace(c):
			return b.String(), i, nil
		default:
			b.WriteByte(c)
		}
	}
	if open {
		return "", i, errOpenQuote
	}
	return b.String(), i, nil
}

// quoteArg quotes an argument only when splitting would otherwise change it,
// so option values such as "veth+" or "dst,dst" print as iptables-save does.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"\\") {
		return s
	}
	return savefmt.Quote(s)
}
