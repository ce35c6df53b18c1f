// Package termsafetest fills values with hostile strings and finds the
// control bytes that leak from them into terminal output, for tests of
// everything that draws cluster data.
package termsafetest

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Payload holds what an attacker who writes an event message, an
// annotation or a rule comment would put there: a window retitle (OSC 0
// ended by BEL), a screen clear, a colour, a carriage return that
// overwrites the line, other C0 controls, C1 CSI both as a character and as
// a lone byte, and a bidirectional override.
const Payload = "\x1b]0;pwned\x07\x1b[2J\x1b[38;5;201m\rX\x00\x08\x7f\u009b31m\x9b\u202eZ"

// EscapedMarker is how the start of Payload reads once escaped; a test
// checks it is in the output, so it knows the hostile strings were drawn.
const EscapedMarker = "^[]0;pwned^G"

// Fill sets every string reachable from ptr through exported fields,
// slices (two elements), maps (one entry, hostile key too) and pointers to
// "<path>:"+Payload, every bool to b, and every number to 1. Interface
// fields, and unexported fields that can hold a string, cannot be filled
// or escaped: Fill returns an error naming them, so a new field of such a
// type fails the test instead of escaping it silently.
func Fill(ptr any, b bool) error { return FillWith(ptr, b, Payload) }

// FillWith is Fill with another payload, e.g. Payload as it reads after
// a round trip through an encoding.
func FillWith(ptr any, b bool, payload string) error {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("fill needs a non-nil pointer, got %T", ptr)
	}
	f := filler{b: b, payload: payload, depth: map[reflect.Type]int{}}
	f.fill(v.Elem(), v.Elem().Type().Name())
	if len(f.unfillable) > 0 {
		return fmt.Errorf("fields that termsafe.Copy cannot escape: %s", strings.Join(f.unfillable, ", "))
	}
	return nil
}

type filler struct {
	b       bool
	payload string
	// depth counts the enclosing values of each type, to stop recursive
	// types.
	depth      map[reflect.Type]int
	unfillable []string
}

func (f *filler) fill(v reflect.Value, path string) {
	t := v.Type()
	if f.depth[t] >= 2 {
		return
	}
	f.depth[t]++
	defer func() { f.depth[t]-- }()
	switch v.Kind() {
	case reflect.String:
		v.SetString(path + ":" + f.payload)
	case reflect.Bool:
		v.SetBool(f.b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Struct:
		// An IP address's only string is its IPv6 zone.
		zoned := netip.MustParseAddr("fd00::1").WithZone(path + ":" + f.payload)
		switch t {
		case reflect.TypeFor[netip.Addr]():
			v.Set(reflect.ValueOf(zoned))
			return
		case reflect.TypeFor[netip.AddrPort]():
			v.Set(reflect.ValueOf(netip.AddrPortFrom(zoned, 1)))
			return
		case reflect.TypeFor[time.Time]():
			// A time's only string is its zone's name, shown by formats
			// with "MST": a leak if one is printed.
			zone := time.FixedZone(path+":"+f.payload, 3600)
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, zone)))
			return
		}
		for i := range v.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				if holdsString(sf.Type, map[reflect.Type]bool{}) {
					f.unfillable = append(f.unfillable, path+"."+sf.Name+" (unexported)")
				}
				continue
			}
			f.fill(v.Field(i), path+"."+sf.Name)
		}
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(t, 2, 2)
		for i := range 2 {
			f.fill(s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		m := reflect.MakeMap(t)
		k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		f.fill(k, path+".key")
		f.fill(e, path+".value")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		f.unfillable = append(f.unfillable, path+" (interface)")
	}
}

// holdsString reports whether a value of type t can hold a string.
func holdsString(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsString(t.Elem(), seen)
	case reflect.Map:
		return holdsString(t.Key(), seen) || holdsString(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsString(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// sgr matches the colour and style sequences the program itself writes.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Leaks returns the places in out where a control character of Payload
// arrived raw, each with the text before it (which names the field the
// payload was put in). With styled set, the program's own SGR sequences
// are allowed and the rest is checked.
func Leaks(out string, styled bool) []string {
	if styled {
		out = sgr.ReplaceAllString(out, "")
	}
	var leaks []string
	for i, r := range out {
		bad := r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f || r == '\u202e' ||
			r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD")
		if !bad {
			continue
		}
		leaks = append(leaks, fmt.Sprintf("%U at byte %d after %q", r, i, out[max(0, i-60):i]))
		if len(leaks) == 5 {
			break
		}
	}
	return leaks
}

// Filled returns a new T filled by Fill, failing tb when T has a field
// that cannot be filled.
func Filled[T any](tb testing.TB, b bool) *T {
	tb.Helper()
	v := new(T)
	if err := Fill(v, b); err != nil {
		tb.Fatal(err)
	}
	return v
}
