package termsafe

import (
	"net/netip"
	"reflect"
)

// Copy returns a deep copy of v in which every string reachable through
// exported fields, slices, arrays, maps (keys too), pointers and interfaces
// is escaped with String. v itself is not changed, so the same value can
// still be encoded losslessly as JSON or YAML.
//
// Working by reflection keeps it correct as the trace's types grow: a new
// field is escaped without anyone remembering to. Unexported fields are
// copied as they are; the types given to Copy keep their data in exported
// fields (the test of the trace type checks that), except IP addresses,
// whose zones are escaped.
func Copy[T any](v T) T {
	c := copier{seen: map[pointer]reflect.Value{}}
	in := reflect.ValueOf(&v).Elem()
	out := reflect.New(in.Type()).Elem()
	c.copy(out, in)
	return out.Interface().(T)
}

type copier struct {
	// seen maps a pointer already copied to its copy, so shared values
	// stay shared and a cycle ends.
	seen map[pointer]reflect.Value
}

type pointer struct {
	t    reflect.Type
	addr uintptr
}

var (
	addrType     = reflect.TypeFor[netip.Addr]()
	addrPortType = reflect.TypeFor[netip.AddrPort]()
)

// copy sets dst, a settable value of src's type, to an escaped copy of src.
func (c copier) copy(dst, src reflect.Value) {
	// An IP address keeps its IPv6 zone, which can be any string, in an
	// unexported field: it is escaped through the type's own methods.
	switch src.Type() {
	case addrType:
		a := src.Interface().(netip.Addr)
		dst.Set(reflect.ValueOf(a.WithZone(String(a.Zone()))))
		return
	case addrPortType:
		ap := src.Interface().(netip.AddrPort)
		dst.Set(reflect.ValueOf(netip.AddrPortFrom(ap.Addr().WithZone(String(ap.Addr().Zone())), ap.Port())))
		return
	}
	switch src.Kind() {
	case reflect.String:
		dst.SetString(String(src.String()))
	case reflect.Struct:
		dst.Set(src) // unexported fields, shared as they are
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				c.copy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		key := pointer{src.Type(), src.Pointer()}
		if p, ok := c.seen[key]; ok {
			dst.Set(p)
			return
		}
		p := reflect.New(src.Type().Elem())
		c.seen[key] = p
		c.copy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			c.copy(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			c.copy(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			k := reflect.New(src.Type().Key()).Elem()
			c.copy(k, it.Key())
			v := reflect.New(src.Type().Elem()).Elem()
			c.copy(v, it.Value())
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		c.copy(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}
