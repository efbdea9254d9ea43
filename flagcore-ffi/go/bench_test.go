package flagcore_test

import (
	"os"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

// Benchmarks of evaluation through cgo, on the flags of the Rust benches (benches/,
// testdata/bench_snapshot.json) with the same context. Target: ≤ 150 ns per call.

func benchStore(b *testing.B) (*flagcore.Store, *flagcore.Context) {
	b.Helper()
	doc, err := os.ReadFile("testdata/bench_snapshot.json")
	if err != nil {
		b.Fatal(err)
	}
	store, err := flagcore.NewStoreFromBytes(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	_ = store.Kill("killed", "bench")
	ctx, err := flagcore.NewContext("user-17",
		flagcore.String("email", "dana@example.com"),
		flagcore.Bool("beta_opt_in", true),
		flagcore.String("country", "c999"),
		flagcore.String("account_id", "acct-1027"),
		flagcore.String("user_agent", "Mozilla/5.0 (Linux; Android 14) Mobile"),
		flagcore.String("app_version", "2.5.1"),
	)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ctx.Close)
	return store, ctx
}

func BenchmarkBool(b *testing.B) {
	store, ctx := benchStore(b)
	for _, flag := range []string{"static", "killed", "three-rules", "matches", "chain-3"} {
		b.Run(flag, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				store.Bool(flag, false, ctx)
			}
		})
	}
}

func BenchmarkBoolParallel(b *testing.B) {
	store, ctx := benchStore(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			store.Bool("three-rules", false, ctx)
		}
	})
}

func BenchmarkBoolDetails(b *testing.B) {
	store, ctx := benchStore(b)
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = store.BoolDetails("three-rules", false, ctx)
		}
	})
	snap, err := store.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	b.Run("held-snapshot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = snap.BoolDetails("three-rules", false, ctx)
		}
	})
}

func BenchmarkString(b *testing.B) {
	store, _ := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		store.String("no-such-flag", "fallback", nil)
	}
}

func BenchmarkNewContext(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ctx, _ := flagcore.NewContext("user-17",
			flagcore.String("email", "dana@example.com"),
			flagcore.Bool("beta_opt_in", true),
			flagcore.String("country", "c999"),
		)
		ctx.Close()
	}
}

// BenchmarkObserve: one healthy observation (both sides past the test's minimum, so the
// sequential test runs), through cgo; it must not allocate.
func BenchmarkObserve(b *testing.B) {
	store, err := flagcore.NewStoreFromBytes([]byte(guardedSnapshot))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	for i := 0; i < 200; i++ {
		_ = store.Observe("checkout", "off", false, flagcore.NoLatency)
		_ = store.Observe("checkout", "on", false, flagcore.NoLatency)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = store.Observe("checkout", "on", false, 12*time.Millisecond)
	}
}
