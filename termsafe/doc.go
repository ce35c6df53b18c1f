// Package termsafe makes text written by others safe to print on a
// terminal: control characters are shown visibly instead of being sent.
//
// Event messages, annotations, rule comments in node dumps, conntrack lines
// and DNS answers are written by someone other than the user who runs the
// trace. Printed raw, an escape sequence in one of them can retitle the
// window, clear the screen or fake output (the class of kubectl's
// CVE-2021-25743). Text output and the terminal UI escape a copy of the
// trace with Copy; JSON and YAML keep the original, their encoders escape.
package termsafe
