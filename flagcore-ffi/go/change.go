package flagcore

/*
#include "flagcore.h"

// Exported by change_export.go.
extern void flagcoreChange(void *user_data, fc_change *change);

// The C callback the store calls: the exported Go function, with the const that cgo's
// export leaves out.
static void flagcore_change(void *user_data, const fc_change *change) {
	flagcoreChange(user_data, (fc_change *)change);
}

static fc_change_callback flagcore_change_callback(void) {
	return flagcore_change;
}
*/
import "C"

import (
	"runtime"
	"slices"
	"sync"
)

// Change is what changed in a [Store], as [Store.Subscribe] reports it.
type Change struct {
	// Version is the serving snapshot's version after the change, valid when HasVersion
	// (false while the store has no snapshot: a kill before the first update).
	Version    uint64
	HasVersion bool
	// Flags are the names of the flags whose definition or kill changed, sorted: flags
	// added, removed or defined differently, flags using a segment or prerequisite that
	// changed, the flag a kill, revive or guardrail trip concerns. Empty after an update
	// that changed no flag.
	Flags []string
}

// Subscribe makes fn be called with each change of what the store serves: a snapshot
// update, a kill or revive that changes a flag's kill, a guardrail trip, kills restored
// from a disk cache. Whatever made the change is heard of: this Store's methods, a
// [Source] on its own thread, an [Store.Observe] that tripped a guardrail. The OpenFeature
// provider emits its configuration-changed events from it.
//
// fn runs on a goroutine of its own, after the change took effect, one call at a time
// per store and in the order the changes happened; the call that made the change does
// not wait for it. So fn may call any method of the store, and may block, at the cost of
// delaying the calls that follow. A panic in fn is not recovered: it ends the program, as
// in any goroutine.
//
// unsubscribe ends the subscription: fn is not called for changes made after it returns
// (a call already under way may finish). Calling it again does nothing. Close ends every
// subscription.
//
//	unsubscribe, err := store.Subscribe(func(c flagcore.Change) {
//		log.Printf("flags changed at version %d: %v", c.Version, c.Flags)
//	})
//	defer unsubscribe()
func (s *Store) Subscribe(fn func(Change)) (unsubscribe func(), err error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	if fn == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "Subscribe needs a function, not nil"}
	}
	if err := s.subscribeInC(); err != nil {
		return nil, err
	}
	changes := &s.cb.changes
	id := changes.add(fn)
	var once sync.Once
	return func() { once.Do(func() { changes.remove(id) }) }, nil
}

// subscribeInC subscribes the store's change queue in C, once: every Go subscriber is
// served from that one subscription.
func (s *Store) subscribeInC() error {
	changes := &s.cb.changes
	changes.register.Lock()
	defer changes.register.Unlock()
	if changes.registered {
		return nil
	}
	var id C.uint64_t
	err := withDetail(func() C.fc_result {
		return C.fc_store_subscribe(s.ptr, C.flagcore_change_callback(), s.res.userData, &id)
	})
	runtime.KeepAlive(s)
	if err == nil {
		changes.registered = true
	}
	return err
}

// changeState queues a store's changes for its subscribers (a part of its [callbacks]).
//
// push runs inside the C callback, under the store's writer lock: it only appends to the
// queue and, when no goroutine is draining it, starts one. The lock mu is therefore never
// held while waiting for anything else, least of all the store.
type changeState struct {
	// register serializes the one fc_store_subscribe; push never takes it.
	register   sync.Mutex
	registered bool

	mu       sync.Mutex
	subs     []subscriber // in the order they subscribed
	lastID   uint64
	seq      uint64 // the number of changes queued so far
	queue    []queuedChange
	draining bool
}

type subscriber struct {
	id uint64
	// from is the first change (by seq) the subscriber is told: none made before it
	// subscribed.
	from uint64
	fn   func(Change)
}

type queuedChange struct {
	seq    uint64
	change Change
}

func (c *changeState) add(fn func(Change)) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastID++
	c.subs = append(c.subs, subscriber{id: c.lastID, from: c.seq + 1, fn: fn})
	return c.lastID
}

func (c *changeState) remove(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = slices.DeleteFunc(c.subs, func(s subscriber) bool { return s.id == id })
}

// push queues a change for the subscribers of now.
func (c *changeState) push(change Change) {
	c.mu.Lock()
	if len(c.subs) == 0 {
		c.mu.Unlock()
		return
	}
	c.seq++
	c.queue = append(c.queue, queuedChange{seq: c.seq, change: change})
	start := !c.draining
	c.draining = true
	c.mu.Unlock()
	if start {
		go c.drain()
	}
}

// drain hands the queued changes to the subscribers, in order, until the queue is empty.
func (c *changeState) drain() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.draining = false
			c.mu.Unlock()
			return
		}
		next := c.queue[0]
		c.queue[0] = queuedChange{}
		c.queue = c.queue[1:]
		var fns []func(Change)
		for _, sub := range c.subs {
			if next.seq >= sub.from {
				fns = append(fns, sub.fn)
			}
		}
		c.mu.Unlock()
		for _, fn := range fns {
			change := next.change
			change.Flags = slices.Clone(change.Flags) // each its own, to keep or change
			fn(change)
		}
	}
}
