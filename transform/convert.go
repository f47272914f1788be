package transform

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/hookflow/hookflow/payload"
)

// toJS copies a document value into the runtime: objects become fresh ordinary objects
// with the same keys in the same order, arrays fresh arrays. Copying, rather than
// wrapping the Go value, keeps conditions from changing the payload and from reaching
// any Go object. Values outside the document model become undefined.
func toJS(rt *goja.Runtime, v any) goja.Value {
	switch v := v.(type) {
	case nil:
		return goja.Null()
	case bool:
		return rt.ToValue(v)
	case float64:
		return rt.ToValue(v)
	case string:
		return jsString(rt, v)
	case []any:
		items := make([]any, len(v))
		for i, e := range v {
			items[i] = toJS(rt, e)
		}
		return rt.NewArray(items...)
	case *payload.Object:
		obj := rt.NewObject()
		for i := 0; i < v.Len(); i++ {
			k, e := v.At(i)
			// Defined, not assigned, so that a "__proto__" key is an own property as
			// JSON.parse makes it, not a change of prototype.
			_ = obj.DefineDataProperty(k, toJS(rt, e), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
		return obj
	}
	return goja.Undefined()
}

// jsString converts a payload string. Payload strings hold lone UTF-16 surrogates as
// their three-byte WTF-8 form (see package payload), which goja would replace with
// U+FFFD; they are decoded here so that the condition sees the same string JSON.parse
// would give it.
func jsString(rt *goja.Runtime, s string) goja.Value {
	if utf8.ValidString(s) {
		return rt.ToValue(s)
	}
	u := make([]uint16, 0, len(s))
	for i := 0; i < len(s); {
		if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
			u = append(u, 0xD000|uint16(s[i+1]&0x3F)<<6|uint16(s[i+2]&0x3F))
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		u = utf16.AppendRune(u, r)
		i += size
	}
	return goja.StringFromUTF16(u)
}
