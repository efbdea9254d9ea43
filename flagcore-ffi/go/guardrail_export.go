package flagcore

/*
#include "flagcore.h"
*/
import "C"

import (
	"runtime/cgo"
	"runtime/debug"
	"time"
	"unsafe"
	"weak"
)

// flagcoreGuardrailTrip is the store's trip callback (through flagcore_guardrail_trip in
// guardrail.go). It runs on the goroutine of the Observe call that tripped, inside it.
//
//export flagcoreGuardrailTrip
func flagcoreGuardrailTrip(userData unsafe.Pointer, kill *C.fc_kill) {
	handle := cgo.Handle(*(*C.uintptr_t)(userData))
	ref, _ := handle.Value().(weak.Pointer[callbacks])
	cb := ref.Value()
	if cb == nil {
		return
	}
	trip := &cb.trip
	fn := trip.fn.Load()
	if fn == nil {
		return
	}
	k := Kill{
		Flag:   gostr(kill.flag),
		Reason: gostr(kill.reason),
		At:     time.Unix(0, int64(kill.at_unix_nanos)),
	}
	defer func() {
		// A panic must not unwind through the Rust frames below: Observe raises it again.
		if value := recover(); value != nil {
			trip.panicked.CompareAndSwap(nil, &tripPanic{value: value, stack: debug.Stack()})
		}
	}()
	(*fn)(k)
}
