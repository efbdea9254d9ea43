package flagcore

/*
#include <stdint.h>
#include "flagcore.h"
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"
	"weak"
)

// flagcoreExposures is the store's exposure callback (through flagcore_exposures in
// exposure.go). It runs on the store's tracking thread, a thread of the C library, one
// batch at a time: it copies the batch and calls the function of TrackExposures.
//
//export flagcoreExposures
func flagcoreExposures(userData unsafe.Pointer, batch *C.fc_exposure, n C.size_t) {
	handle := cgo.Handle(*(*C.uintptr_t)(userData))
	ref, _ := handle.Value().(weak.Pointer[callbacks])
	cb := ref.Value()
	if cb == nil || n == 0 {
		return
	}
	fn := cb.exposures.fn.Load()
	if fn == nil {
		return
	}
	lent := unsafe.Slice(batch, int(n))
	out := make([]Exposure, len(lent))
	for i := range lent {
		e := &lent[i]
		out[i] = Exposure{
			Time:      time.UnixMilli(int64(e.time_unix_ms)).UTC(),
			Flag:      gostr(e.flag),
			Variant:   gostr(e.variant),
			Reason:    ReasonError,
			RuleIndex: int(e.rule_index),
			RuleID:    gostr(e.rule_id),
			Key:       gostr(e.key),
			Unit:      gostr(e.unit),
			Bucket:    int(e.bucket),
			Step:      int(e.step),
			Version:   uint64(e.version),
		}
		if int(e.reason) < len(reasons) {
			out[i].Reason = reasons[e.reason]
		}
	}
	(*fn)(out)
}
