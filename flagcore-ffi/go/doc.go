// Package flagcore evaluates feature flags in-process: a service loads a snapshot of flag
// rules into a [Store] and asks, on every request, which variant of a flag a user gets. No
// network call, no lock: evaluations read an immutable compiled plan.
//
// The package wraps flagcore's C ABI with cgo; the evaluation engine is the Rust library,
// so Go agrees bucket for bucket with the Rust, Python and C bindings.
//
// # Building
//
// The package links the flagcore C library installed on the system, found by pkg-config
// (flagcore.pc), so install that first. From a checkout of the repository:
//
//	cargo build --release -p flagcore-ffi && sudo make -C flagcore-ffi install && sudo ldconfig
//	go get github.com/flagcore/flagcore/flagcore-ffi/go
//
// With another prefix, set PKG_CONFIG_PATH to its lib/pkgconfig when building and
// LD_LIBRARY_PATH to its lib when running (see link_pkgconfig.go). Inside the repository,
// -tags flagcore_static links the checkout's own build instead (link_static.go):
//
//	cargo build --release -p flagcore-ffi     # target/release/libflagcore.a
//	cd flagcore-ffi/go && go test -tags flagcore_static ./...
//
// -tags flagcore_system takes the header and library from CGO_CFLAGS and CGO_LDFLAGS
// (link_system.go), to link an installed libflagcore.a, say.
//
// # Use
//
//	store, err := flagcore.NewStoreFromBytes(doc)    // or NewStore + Update
//	defer store.Close()
//	ctx, err := flagcore.NewContext("user-17", flagcore.String("country", "DE"), flagcore.Bool("beta", true))
//	defer ctx.Close()
//	if store.Bool("new-checkout", false, ctx) { ... }
//	d, err := store.BoolDetails("new-checkout", false, ctx) // d.Reason, d.Variant, d.RuleID, d.Bucket
//
// Updates ([Store.Update]) validate a whole document and swap it in atomically; an invalid
// or stale document is refused with an [*Error] and the serving snapshot stays. Runtime
// kills ([Store.Kill]) switch a flag to its off variant everywhere until revived, across
// updates. [Store.TakeMetrics] reads and resets evaluation counts.
//
// Guardrails of a flag kill it on their own when a variant does measurably worse than its
// bound allows: the application reports each request's outcome with [Store.Observe]
// (as cheap as an evaluation), [Store.Guardrails] shows each guardrail's evidence, and
// [Store.OnGuardrailTrip] hears of each trip (to tell the rest of a fleet, say):
//
//	d, _ := store.StringDetails("checkout-flow", "classic", ctx) // d.Variant: what was served
//	err := handle(req, d.Value)
//	store.Observe("checkout-flow", d.Variant, err != nil, time.Since(start))
//
// An observation of variant "" (the caller's default was served), like one of an unknown
// flag or variant, adds no evidence and is counted by [Store.ObservationsIgnored].
//
// In production a [Source] can keep the store fed: [NewFileSource] reloads a snapshot file
// when it changes, [NewHTTPSource] polls a URL with ETag/If-None-Match, timeouts and
// backoff. A failing source leaves the last good snapshot serving; [Source.Status] says
// what it is doing (version, last success, consecutive failures, last error):
//
//	source, err := flagcore.NewHTTPSource(store, "https://flags.internal.example/v1/snapshot.json",
//		&flagcore.HTTPSourceOptions{Interval: 5 * time.Second, BearerToken: token})
//	defer source.Close()
//	if st := source.Status(); st.ConsecutiveFailures > 0 { log.Print(st.LastError) }
//
// [Store.Subscribe] tells a function which flags each change of the store changed, and
// the version then serving, whatever made it (an update, a kill, a Source's reload, a
// guardrail trip); the function runs on a goroutine of its own, in the order of the
// changes.
//
// The plain getters (Bool, String, Int, Float, JSON) return the caller's default whenever
// the flag cannot be served; the *Details variants say why. Reasons and error codes are
// OpenFeature's names; the provider subpackage plugs a Store into the OpenFeature Go SDK,
// and emits a configuration-changed event for each change of the store.
//
// # Concurrency and memory
//
// Store, Snapshot, Context and Source are safe for concurrent use. Each owns C memory: Close it
// when done (a runtime cleanup frees what is forgotten, once unreachable), and never Close
// a value while another goroutine still uses it.
package flagcore
