package report

import (
	"reflect"

	"holmes/triage"
)

// visibleResult copies a result with every string in it made visible, so
// that no renderer can forget one: a name from disk with a newline, an
// escape sequence or a right-to-left override cannot forge a line, drive a
// terminal or reorder what the page shows. Escaping for the format stays
// the renderer's job.
func visibleResult(r *triage.Result) *triage.Result {
	c := visibleCopy(reflect.ValueOf(r).Elem()).Interface().(triage.Result)
	return &c
}

func visibleCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		return reflect.ValueOf(visible(v.String())).Convert(v.Type())
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(visibleCopy(v.Elem()))
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if c.Field(i).CanSet() {
				c.Field(i).Set(visibleCopy(v.Field(i)))
			}
		}
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(visibleCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k := visibleCopy(it.Key())
			// Two keys that differ only in what had to be escaped stay two
			// rows.
			for c.MapIndex(k).IsValid() && k.Kind() == reflect.String {
				k = reflect.ValueOf(k.String() + " (another)").Convert(k.Type())
			}
			c.SetMapIndex(k, visibleCopy(it.Value()))
		}
		return c
	default:
		return v
	}
}
