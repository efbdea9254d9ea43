// Package bench compares flagcore's Go package (cgo over the Rust engine) with a pure-Go
// evaluation engine, LaunchDarkly's go-server-sdk-evaluation, on the same rules: the
// "three-rules" flag of benches/ (a segment rule, an `in` clause, and a 5% rollout by
// account inside a segment of segments) and a static flag. It is a module of its own so
// that the package's users and `go test ./...` never download the peer.
//
//	cargo build --release -p flagcore-ffi
//	cd flagcore-ffi/go/bench && go test -tags flagcore_static -bench . -benchmem
package bench

import (
	"os"
	"testing"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	evaluation "github.com/launchdarkly/go-server-sdk-evaluation/v3"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldbuilders"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldmodel"
)

type data struct {
	flags    map[string]*ldmodel.FeatureFlag
	segments map[string]*ldmodel.Segment
}

func (d *data) GetFeatureFlag(key string) *ldmodel.FeatureFlag { return d.flags[key] }
func (d *data) GetSegment(key string) *ldmodel.Segment         { return d.segments[key] }

// The rules of testdata/bench_snapshot.json in LaunchDarkly's model.
func launchDarkly() (*data, evaluation.Evaluator) {
	seg := func(s ldmodel.Segment) *ldmodel.Segment { return &s }
	flag := func(f ldmodel.FeatureFlag) *ldmodel.FeatureFlag { return &f }
	on, off := ldvalue.Bool(true), ldvalue.Bool(false)
	d := &data{
		segments: map[string]*ldmodel.Segment{
			"internal": seg(ldbuilders.NewSegmentBuilder("internal").Included("alice").
				AddRule(ldbuilders.NewSegmentRuleBuilder().Clauses(
					ldbuilders.Clause("email", ldmodel.OperatorEndsWith, ldvalue.String("@corp.example")))).Build()),
			"beta": seg(ldbuilders.NewSegmentBuilder("beta").
				AddRule(ldbuilders.NewSegmentRuleBuilder().Clauses(
					ldbuilders.Clause("beta_opt_in", ldmodel.OperatorIn, ldvalue.Bool(true)))).Build()),
			"customer": seg(ldbuilders.NewSegmentBuilder("customer").
				AddRule(ldbuilders.NewSegmentRuleBuilder().Clauses(
					ldbuilders.Negate(ldbuilders.SegmentMatchClause("internal")))).Build()),
			"beta-customer": seg(ldbuilders.NewSegmentBuilder("beta-customer").
				AddRule(ldbuilders.NewSegmentRuleBuilder().Clauses(
					ldbuilders.SegmentMatchClause("beta"), ldbuilders.SegmentMatchClause("customer"))).Build()),
		},
	}
	canary := ldbuilders.Rollout(ldbuilders.Bucket(0, 5000), ldbuilders.Bucket(1, 95000))
	canary.Rollout.BucketBy = ldattrRef("account_id")
	d.flags = map[string]*ldmodel.FeatureFlag{
		"static": flag(ldbuilders.NewFlagBuilder("static").On(true).Variations(on, off).
			OffVariation(1).FallthroughVariation(0).Build()),
		"three-rules": flag(ldbuilders.NewFlagBuilder("three-rules").On(true).Variations(on, off).OffVariation(1).
			AddRule(ldbuilders.NewRuleBuilder().ID("staff").Variation(0).
				Clauses(ldbuilders.SegmentMatchClause("internal"))).
			AddRule(ldbuilders.NewRuleBuilder().ID("blocked").Variation(1).
				Clauses(ldbuilders.Clause("country", ldmodel.OperatorIn,
					ldvalue.String("KP"), ldvalue.String("IR"), ldvalue.String("SY")))).
			AddRule(ldbuilders.NewRuleBuilder().ID("canary").VariationOrRollout(canary).
				Clauses(ldbuilders.SegmentMatchClause("beta-customer"))).
			FallthroughVariation(1).Build()),
	}
	return d, evaluation.NewEvaluator(d)
}

var ldContext = ldcontext.NewBuilder("user-17").
	SetString("email", "dana@example.com").
	SetBool("beta_opt_in", true).
	SetString("country", "c999").
	SetString("account_id", "acct-1027").
	SetString("user_agent", "Mozilla/5.0 (Linux; Android 14) Mobile").
	SetString("app_version", "2.5.1").
	Build()

func flagcoreStore(b *testing.B) (*flagcore.Store, *flagcore.Context) {
	doc, err := os.ReadFile("../testdata/bench_snapshot.json")
	if err != nil {
		b.Fatal(err)
	}
	store, err := flagcore.NewStoreFromBytes(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
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

func BenchmarkEvaluate(b *testing.B) {
	store, ctx := flagcoreStore(b)
	d, ev := launchDarkly()
	for _, name := range []string{"static", "three-rules"} {
		b.Run(name+"/flagcore-cgo", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				store.Bool(name, false, ctx)
			}
		})
		b.Run(name+"/flagcore-cgo-details", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = store.BoolDetails(name, false, ctx)
			}
		})
		b.Run(name+"/launchdarkly-go", func(b *testing.B) {
			flag := d.flags[name]
			b.ReportAllocs()
			for b.Loop() {
				_ = ev.Evaluate(flag, ldContext, nil).Detail.Value.BoolValue()
			}
		})
	}
}

// The two models hold the same rules: both serve a staff member the flag (their bucketings
// differ, so rollouts are not compared).
func TestSameAnswers(t *testing.T) {
	doc, err := os.ReadFile("../testdata/bench_snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	store, err := flagcore.NewStoreFromBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, _ := flagcore.NewContext("user-17", flagcore.String("email", "a@corp.example"))
	defer ctx.Close()
	d, ev := launchDarkly()
	staff := ldcontext.NewBuilder("user-17").SetString("email", "a@corp.example").Build()
	for _, name := range []string{"static", "three-rules"} {
		fc := store.Bool(name, false, ctx)
		ld := ev.Evaluate(d.flags[name], staff, nil).Detail.Value.BoolValue()
		if fc != ld {
			t.Errorf("%s: flagcore %v, LaunchDarkly %v", name, fc, ld)
		}
	}
}
