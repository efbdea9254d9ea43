package flagcore_test

import (
	"errors"
	"fmt"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

const exampleSnapshot = `{
  "version": 1,
  "segments": {"beta": {"rules": [{"conditions": [
      {"attribute": "beta_opt_in", "op": "eq", "values": [true]}]}]}},
  "flags": {"new-checkout": {
    "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "rules": [{"id": "beta-half", "conditions": [{"in_segment": "beta"}],
               "serve": {"rollout": {"split": [{"variant": "on", "weight": 50},
                                               {"variant": "off", "weight": 50}]}}}],
    "fallthrough": {"variant": "off"}}}
}`

func Example() {
	store, err := flagcore.NewStoreFromBytes([]byte(exampleSnapshot))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	ctx, err := flagcore.NewContext("user-17", flagcore.Bool("beta_opt_in", true))
	if err != nil {
		panic(err)
	}
	defer ctx.Close()

	d, err := store.BoolDetails("new-checkout", false, ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Value, d.Variant, d.Reason, d.RuleID, d.Bucket)
	fmt.Println(store.Bool("no-such-flag", true, ctx))
	// Output:
	// false off SPLIT beta-half 75561
	// true
}

func ExampleStore_Update() {
	store := flagcore.NewStore()
	defer store.Close()

	version, err := store.Update([]byte(exampleSnapshot))
	fmt.Println(version, err)

	// An invalid document is refused with every problem; the old one keeps serving.
	_, err = store.Update([]byte(`{"version": 2, "flags": {"f": {"variants": {"on": true},
	  "enabled": true, "off_variant": "of", "fallthrough": {"variant": "no"}}}}`))
	var invalid *flagcore.Error
	if errors.As(err, &invalid) {
		for _, problem := range invalid.ValidationErrors {
			fmt.Println(problem.Code, problem)
		}
	}
	// A document not newer than the serving one is stale.
	_, err = store.Update([]byte(exampleSnapshot))
	fmt.Println(errors.Is(err, flagcore.ErrStaleSnapshot))
	current, _ := store.Version()
	fmt.Println(current)
	// Output:
	// 1 <nil>
	// unknown_variant flags.f.off_variant: unknown variant `of`; flag `f` has: on
	// unknown_variant flags.f.fallthrough.variant: unknown variant `no`; flag `f` has: on
	// true
	// 1
}

func ExampleStore_UpdateMerged() {
	// Two flagd documents, as flagd serves several sources: a later definition of a flag
	// replaces an earlier one, and $evaluators are shared.
	base := []byte(`{"$evaluators": {"is_staff": {"ends_with": [{"var": "email"}, "@example.com"]}},
	  "flags": {
	    "new-checkout": {"state": "ENABLED", "variants": {"on": true, "off": false},
	                     "defaultVariant": "off"},
	    "banner": {"state": "ENABLED", "variants": {"staff": "Hello, colleague", "all": "Hello"},
	               "defaultVariant": "all",
	               "targeting": {"if": [{"$ref": "is_staff"}, "staff", "all"]}}}}`)
	team := []byte(`{"flags": {"new-checkout": {"state": "ENABLED",
	  "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}`)

	store := flagcore.NewStore()
	defer store.Close()
	version, err := store.UpdateMerged(base, team)
	fmt.Println(version, err)
	ctx, _ := flagcore.NewAnonymousContext(flagcore.String("email", "ada@example.com"))
	defer ctx.Close()
	fmt.Println(store.Bool("new-checkout", false, ctx), store.String("banner", "", ctx))

	// A format can be stated instead of detected: read as native, a flagd document is
	// refused, and the merged one keeps serving.
	_, err = store.UpdateAs(team, flagcore.FormatNative)
	fmt.Println(errors.Is(err, flagcore.ErrInvalidSnapshot))
	version, err = store.UpdateAs(team, flagcore.FormatFlagd)
	fmt.Println(version, err, store.String("banner", "none", ctx))
	// Output:
	// 1 <nil>
	// true Hello, colleague
	// true
	// 2 <nil> none
}

func ExampleStore_Kill() {
	store, _ := flagcore.NewStoreFromBytes([]byte(exampleSnapshot))
	defer store.Close()
	ctx, _ := flagcore.NewContext("user-3", flagcore.Bool("beta_opt_in", true))
	defer ctx.Close()

	_ = store.Kill("new-checkout", "checkout errors, INC-1234")
	d, _ := store.BoolDetails("new-checkout", true, ctx)
	fmt.Println(d.Value, d.Reason)
	kills, _ := store.Kills()
	fmt.Println(kills[0].Flag, kills[0].Reason)

	wasKilled, _ := store.Revive("new-checkout")
	fmt.Println(wasKilled)
	// Output:
	// false DISABLED
	// new-checkout checkout errors, INC-1234
	// true
}

func ExampleStore_TakeMetrics() {
	store, _ := flagcore.NewStoreFromBytes([]byte(exampleSnapshot))
	defer store.Close()
	for _, key := range []string{"a", "b", "c"} {
		ctx, _ := flagcore.NewContext(key)
		store.Bool("new-checkout", false, ctx)
		ctx.Close()
	}
	metrics, _ := store.TakeMetrics()
	fmt.Println(metrics["new-checkout"].Variants["off"], metrics["new-checkout"].Total())
	// Output:
	// 3 3
}

func ExampleStore_Observe() {
	store, err := flagcore.NewStoreFromBytes([]byte(`{"version": 1, "flags": {"checkout": {
	  "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
	  "fallthrough": {"variant": "on"},
	  "guardrails": [{"id": "budget", "watch": ["on"], "max_error_rate": 0.05}]}}}`))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	_ = store.OnGuardrailTrip(func(k flagcore.Kill) {
		fmt.Println("tripped:", k.Reason) // tell the fleet, say
	})

	// After serving a variant, report how the request went.
	for i := 0; i < 100; i++ {
		_ = store.Observe("checkout", "on", i%2 == 0, 12*time.Millisecond)
	}
	fmt.Println(store.Bool("checkout", true, nil))
	guardrails, _ := store.Guardrails()
	for _, g := range guardrails {
		fmt.Println(g.ID, g.Tripped, g.Watched[0].Observations, g.Watched[0].Events)
	}
	// Output:
	// tripped: guardrail budget: 50.0% errors, 100 observations (max_error_rate 0.05)
	// false
	// budget true 100 50
}

func ExampleStore_Subscribe() {
	store, err := flagcore.NewStoreFromBytes([]byte(exampleSnapshot))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	changed := make(chan flagcore.Change, 1)
	unsubscribe, err := store.Subscribe(func(c flagcore.Change) { changed <- c })
	if err != nil {
		panic(err)
	}
	defer unsubscribe()

	// Whatever changes the store (this kill, an update, a Source) is heard of.
	if err := store.Kill("new-checkout", "incident 1234"); err != nil {
		panic(err)
	}
	c := <-changed
	fmt.Println(c.Version, c.Flags)
	// Output:
	// 1 [new-checkout]
}

func ExampleStore_TrackExposures() {
	store, err := flagcore.NewStoreFromBytes([]byte(`{"version": 3, "flags": {"buy-button": {
	  "variants": {"short": "Buy", "long": "Buy now, pay later"}, "enabled": true,
	  "off_variant": "short", "exposures": true,
	  "fallthrough": {"rollout": {"by": "account", "split": [{"variant": "short", "weight": 50},
	                                                      {"variant": "long", "weight": 50}]}}}}}`))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	var exposures []flagcore.Exposure // the function runs on the store's tracking thread
	err = store.TrackExposures(func(batch []flagcore.Exposure) {
		exposures = append(exposures, batch...)
	}, flagcore.ExposureOptions{}) // or ExposureOptions{JSONLines: &flagcore.JSONLinesFile{...}}
	if err != nil {
		panic(err)
	}
	for _, user := range []string{"ann", "bob", "ann"} {
		ctx, _ := flagcore.NewContext(user, flagcore.String("account", "acme"))
		store.String("buy-button", "Buy", ctx)
		ctx.Close()
	}
	_ = store.FlushExposures() // the function has them when it returns
	e := exposures[0]
	fmt.Println(len(exposures), e.Flag, e.Variant, e.Reason, e.Key, e.Unit, e.Bucket, e.Version)
	stats, _ := store.ExposureStats()
	fmt.Printf("%+v\n", stats)
	// Output:
	// 1 buy-button short SPLIT ann acme 10075 3
	// {Accepted:3 Delivered:1 Deduplicated:2 Dropped:0 SinkErrors:0}
}
