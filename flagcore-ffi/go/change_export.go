package flagcore

/*
#include <stdint.h>
#include "flagcore.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
	"weak"
)

// flagcoreChange is the store's change callback (through flagcore_change in change.go).
// It runs under the store's writer lock, on whatever thread made the change (a Go
// goroutine inside Update, Kill, Revive or Observe, or a Source's thread): it copies the
// change and queues it, and the subscribers are called on a goroutine of their own.
//
//export flagcoreChange
func flagcoreChange(userData unsafe.Pointer, change *C.fc_change) {
	handle := cgo.Handle(*(*C.uintptr_t)(userData))
	ref, _ := handle.Value().(weak.Pointer[callbacks])
	cb := ref.Value()
	if cb == nil {
		return
	}
	c := Change{Version: uint64(change.version), HasVersion: bool(change.has_version)}
	if n := int(change.flags_len); n > 0 {
		names := unsafe.Slice(change.flags, n)
		c.Flags = make([]string, n)
		for i, name := range names {
			c.Flags[i] = gostr(name)
		}
	}
	cb.changes.push(c)
}
