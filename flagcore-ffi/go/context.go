package flagcore

/*
#include <stdlib.h>
#include "flagcore.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// MaxAttributes is the most attributes a [Context] may have.
const MaxAttributes = C.FC_MAX_ATTRIBUTES

type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindBool
)

// Attribute is one named value of a [Context]: build it with [String], [Int], [Int64],
// [Float] or [Bool].
type Attribute struct {
	name string
	kind valueKind
	str  string
	num  int64
	flt  float64
}

// String is a string attribute.
func String(name, value string) Attribute {
	return Attribute{name: name, kind: kindString, str: value}
}

// Int is an integer attribute.
func Int(name string, value int) Attribute {
	return Attribute{name: name, kind: kindInt, num: int64(value)}
}

// Int64 is an integer attribute.
func Int64(name string, value int64) Attribute {
	return Attribute{name: name, kind: kindInt, num: value}
}

// Float is a number attribute.
func Float(name string, value float64) Attribute {
	return Attribute{name: name, kind: kindFloat, flt: value}
}

// Bool is a boolean attribute.
func Bool(name string, value bool) Attribute {
	a := Attribute{name: name, kind: kindBool}
	if value {
		a.num = 1
	}
	return a
}

// Context is who is asking: a targeting key and attributes. Build it once per request
// and pass it to as many evaluations as needed; a nil *Context is an empty context
// without a targeting key.
//
// Building a Context checks its strings and copies them into the Rust library (a prepared
// context), so that evaluations pass one pointer and convert nothing. Close it when done
// (a cleanup frees it if forgotten, once unreachable). It is immutable and safe for
// concurrent use; Close must not race with its use.
type Context struct {
	// desc is what evaluations receive: an fc_context whose only field set is `prepared`
	// (a C pointer, so Go memory may hold it and be passed to C).
	desc    C.fc_context
	cleanup runtime.Cleanup
}

// NewContext returns a context with targeting key key (the attribute named `key` in
// rules) and the given attributes. When a name appears twice the first wins; an attribute
// named "key" is ignored (key is the targeting key).
func NewContext(key string, attributes ...Attribute) (*Context, error) {
	return newContext(&key, attributes)
}

// NewAnonymousContext returns a context without a targeting key: targets and rollouts by
// key cannot match it.
func NewAnonymousContext(attributes ...Attribute) (*Context, error) {
	return newContext(nil, attributes)
}

// NewContextFromMap returns a context with targeting key key (none when hasKey is false)
// and attributes from a map, as OpenFeature hands them over: strings, booleans, integers
// of any size that fits int64, floats, json.Number and time.Time (as Unix milliseconds,
// what `before`/`after` read). Values of other types (maps, slices, nil) are skipped, as
// no rule could read them.
func NewContextFromMap(key string, hasKey bool, attributes map[string]any) (*Context, error) {
	attrs := make([]Attribute, 0, len(attributes))
	for name, value := range attributes {
		if a, ok := attributeOf(name, value); ok {
			attrs = append(attrs, a)
		}
	}
	if !hasKey {
		return newContext(nil, attrs)
	}
	return newContext(&key, attrs)
}

func attributeOf(name string, value any) (Attribute, bool) {
	switch v := value.(type) {
	case string:
		return String(name, v), true
	case bool:
		return Bool(name, v), true
	case int:
		return Int(name, v), true
	case int8:
		return Int64(name, int64(v)), true
	case int16:
		return Int64(name, int64(v)), true
	case int32:
		return Int64(name, int64(v)), true
	case int64:
		return Int64(name, v), true
	case uint:
		return uintAttribute(name, uint64(v))
	case uint8:
		return Int64(name, int64(v)), true
	case uint16:
		return Int64(name, int64(v)), true
	case uint32:
		return Int64(name, int64(v)), true
	case uint64:
		return uintAttribute(name, v)
	case float32:
		return Float(name, float64(v)), true
	case float64:
		return Float(name, v), true
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return Int64(name, i), true
		}
		if f, err := v.Float64(); err == nil {
			return Float(name, f), true
		}
		return Attribute{}, false
	case time.Time:
		return Int64(name, v.UnixMilli()), true
	default:
		return Attribute{}, false
	}
}

func uintAttribute(name string, v uint64) (Attribute, bool) {
	if v > math.MaxInt64 {
		return Float(name, float64(v)), true
	}
	return Int64(name, int64(v)), true
}

func newContext(key *string, attributes []Attribute) (*Context, error) {
	if len(attributes) > MaxAttributes {
		return nil, &Error{
			Code:    CodeTooManyAttributes,
			Message: fmt.Sprintf("%d attributes, more than %d", len(attributes), MaxAttributes),
		}
	}
	// One block: the fc_context, the fc_attribute array, then every string's bytes.
	header := unsafe.Sizeof(C.fc_context{})
	attrSize := unsafe.Sizeof(C.fc_attribute{})
	size := header + attrSize*uintptr(len(attributes))
	strings := 0
	if key != nil {
		strings += len(*key)
	}
	for _, a := range attributes {
		strings += len(a.name) + len(a.str)
	}
	block := C.malloc(C.size_t(size + uintptr(strings)))
	if block == nil {
		return nil, &Error{Code: CodeInternal, Message: "out of memory"}
	}
	mem := unsafe.Slice((*byte)(block), size+uintptr(strings))
	next := size
	place := func(s string) (*C.char, C.size_t) {
		p := unsafe.Pointer(&mem[next])
		next += uintptr(copy(mem[next:], s))
		return (*C.char)(p), C.size_t(len(s))
	}
	ctx := (*C.fc_context)(block)
	*ctx = C.fc_context{}
	if key != nil {
		ctx.key, ctx.key_len = placeOrEmpty(place, *key, block)
	}
	if len(attributes) > 0 {
		array := unsafe.Slice((*C.fc_attribute)(unsafe.Add(block, header)), len(attributes))
		for i, a := range attributes {
			c := &array[i]
			*c = C.fc_attribute{}
			c.name, c.name_len = placeOrEmpty(place, a.name, block)
			switch a.kind {
			case kindString:
				c.kind = C.FC_VALUE_KIND_STRING
				c.string_value, c.string_len = placeOrEmpty(place, a.str, block)
			case kindInt:
				c.kind = C.FC_VALUE_KIND_INT
				c.int_value = C.int64_t(a.num)
			case kindFloat:
				c.kind = C.FC_VALUE_KIND_FLOAT
				c.float_value = C.double(a.flt)
			case kindBool:
				c.kind = C.FC_VALUE_KIND_BOOL
				c.bool_value = a.num != 0
			}
		}
		ctx.attributes = &array[0]
		ctx.attributes_len = C.size_t(len(attributes))
	}
	var prepared *C.fc_prepared_context
	r := C.fc_prepared_context_new(ctx, &prepared)
	C.free(block)
	if r != C.FC_RESULT_OK {
		return nil, evaluationError(r)
	}
	c := &Context{}
	c.desc.prepared = prepared
	c.cleanup = runtime.AddCleanup(c, func(p *C.fc_prepared_context) { C.fc_prepared_context_free(p) }, prepared)
	return c, nil
}

// placeOrEmpty copies s into the block; an empty string gets a valid non-NULL pointer.
func placeOrEmpty(place func(string) (*C.char, C.size_t), s string, block unsafe.Pointer) (*C.char, C.size_t) {
	if len(s) == 0 {
		return (*C.char)(block), 0
	}
	return place(s)
}

// Close frees the context; it is idempotent.
func (c *Context) Close() {
	if c == nil || c.desc.prepared == nil {
		return
	}
	c.cleanup.Stop()
	C.fc_prepared_context_free(c.desc.prepared)
	c.desc.prepared = nil
}

// c is the pointer to pass to C: NULL for a nil context. A closed context fails.
func (c *Context) c() (*C.fc_context, error) {
	if c == nil {
		return nil, nil
	}
	if c.desc.prepared == nil {
		return nil, ErrClosed
	}
	return &c.desc, nil
}
