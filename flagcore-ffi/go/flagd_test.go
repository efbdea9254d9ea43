package flagcore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/flagcore/flagcore/flagcore-ffi/go/provider"
	"github.com/open-feature/go-sdk/openfeature"
)

// The flagd conformance cases of tests/flagd (format 1): expected values, reasons and
// error codes from flagd's published conformance tables, for tests/flagd/flags.json.

const flagdFlags = "../../tests/flagd/flags.json"

type flagdCases struct {
	Format int         `json:"format"`
	Cases  []flagdCase `json:"cases"`
}

type flagdCase struct {
	Flag    string          `json:"flag"`
	Type    string          `json:"type"`
	Default json.RawMessage `json:"default"`
	// Key is the targeting key; nil for a context without one.
	Key *string `json:"key"`
	// Attributes are flattened to dotted names, as `var` addresses them.
	Attributes json.RawMessage `json:"attributes"`
	Value      json.RawMessage `json:"value"`
	// Reason is nil where flagd's tables give only a value.
	Reason    *string `json:"reason"`
	ErrorCode *string `json:"error_code"`
}

func (c flagdCase) String() string {
	key := "<none>"
	if c.Key != nil {
		key = *c.Key
	}
	return fmt.Sprintf("%s (%s, key %s, attributes %s)", c.Flag, c.Type, key, c.Attributes)
}

func loadFlagdCases(t *testing.T) []flagdCase {
	t.Helper()
	raw, err := os.ReadFile("../../tests/flagd/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var file flagdCases
	decode(t, raw, &file)
	if file.Format != 1 {
		t.Fatalf("unknown format %d of tests/flagd/cases.json", file.Format)
	}
	if len(file.Cases) < 100 {
		t.Fatalf("only %d cases", len(file.Cases))
	}
	return file.Cases
}

func TestFlagdConformance(t *testing.T) {
	store, err := flagcore.NewStoreFromFile(flagdFlags)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	snap, err := store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	for _, c := range loadFlagdCases(t) {
		runFlagdCase(t, snap, c)
	}
}

func runFlagdCase(t *testing.T, snap *flagcore.Snapshot, c flagdCase) {
	t.Helper()
	var attrs []flagcore.Attribute
	if len(c.Attributes) > 0 {
		attrs = orderedAttributes(t, c.Attributes)
	}
	var ctx *flagcore.Context
	var err error
	if c.Key != nil {
		ctx, err = flagcore.NewContext(*c.Key, attrs...)
	} else {
		ctx, err = flagcore.NewAnonymousContext(attrs...)
	}
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	defer ctx.Close()

	var valueOK bool
	var got any
	var reason flagcore.Reason
	var code flagcore.ErrorCode
	switch c.Type {
	case "bool":
		var def, want bool
		decode(t, c.Default, &def)
		decode(t, c.Value, &want)
		d, err := snap.BoolDetails(c.Flag, def, ctx)
		valueOK, got, reason, code = err == nil && d.Value == want, d.Value, d.Reason, d.ErrorCode
	case "int":
		var def, want json.Number
		decode(t, c.Default, &def)
		decode(t, c.Value, &want)
		di, err1 := strconv.ParseInt(string(def), 10, 64)
		wi, err2 := strconv.ParseInt(string(want), 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%v: integers expected", c)
		}
		d, err := snap.IntDetails(c.Flag, di, ctx)
		valueOK, got, reason, code = err == nil && d.Value == wi, d.Value, d.Reason, d.ErrorCode
	case "float":
		var def, want float64
		decode(t, c.Default, &def)
		decode(t, c.Value, &want)
		d, err := snap.FloatDetails(c.Flag, def, ctx)
		valueOK, got, reason, code = err == nil && d.Value == want, d.Value, d.Reason, d.ErrorCode
	case "string":
		var def, want string
		decode(t, c.Default, &def)
		decode(t, c.Value, &want)
		d, err := snap.StringDetails(c.Flag, def, ctx)
		valueOK, got, reason, code = err == nil && d.Value == want, d.Value, d.Reason, d.ErrorCode
	case "object":
		d, err := snap.JSONDetails(c.Flag, c.Default, ctx)
		valueOK = err == nil && jsonEqual(t, d.Value, c.Value)
		got, reason, code = string(d.Value), d.Reason, d.ErrorCode
	default:
		t.Fatalf("%v: unknown type %q", c, c.Type)
	}
	wantCode := flagcore.ErrorCodeNone
	if c.ErrorCode != nil {
		wantCode = flagcore.ErrorCode(*c.ErrorCode)
	}
	reasonOK := c.Reason == nil || flagcore.Reason(*c.Reason) == reason
	if !valueOK || !reasonOK || code != wantCode {
		want := "<any>"
		if c.Reason != nil {
			want = *c.Reason
		}
		t.Errorf("%v: got %v %s %q, want %s %s %q", c, got, reason, code, c.Value, want, wantCode)
	}
}

// The OpenFeature provider hands flagd's error codes to the SDK under OpenFeature's
// names, with the caller's default.
func TestFlagdErrorsThroughTheProvider(t *testing.T) {
	store, err := flagcore.NewStoreFromFile(flagdFlags)
	if err != nil {
		t.Fatal(err)
	}
	if err := openfeature.SetProviderAndWait(provider.New(store)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		openfeature.Shutdown()
		store.Close()
	})
	client := openfeature.NewDefaultClient()
	ctx := context.Background()
	none := openfeature.NewTargetlessEvaluationContext(nil)

	parse, err := client.IntValueDetails(ctx, "error-targeting-flag", 3, none)
	if err == nil || parse.Value != 3 || parse.Reason != openfeature.ErrorReason ||
		parse.ErrorCode != openfeature.ParseErrorCode {
		t.Errorf("error-targeting-flag = %+v, %v", parse, err)
	}
	ref, err := client.StringValueDetails(ctx, "ref-to-nonexistent-evaluator-flag", "fallback", none)
	if err == nil || ref.Value != "fallback" || ref.ErrorCode != openfeature.ParseErrorCode {
		t.Errorf("ref-to-nonexistent-evaluator-flag = %+v, %v", ref, err)
	}
	general, err := client.IntValueDetails(ctx, "missing-variant-targeting-flag", 3, none)
	if err == nil || general.Value != 3 || general.ErrorCode != openfeature.GeneralCode {
		t.Errorf("missing-variant-targeting-flag = %+v, %v", general, err)
	}

	// The rest of the file serves: a fractional bucket, with the file's metadata
	// overlaid by the flag's.
	jack := openfeature.NewTargetlessEvaluationContext(map[string]any{"user.name": "jack"})
	suit, err := client.StringValueDetails(ctx, "fractional-flag", "fallback", jack)
	if err != nil || suit.Value != "hearts" || suit.Variant != "hearts" || suit.Reason != openfeature.TargetingMatchReason {
		t.Errorf("fractional-flag = %+v, %v", suit, err)
	}
	meta, err := client.BooleanValueDetails(ctx, "metadata-flag", false, none)
	if err != nil || !meta.Value || meta.FlagMetadata["flagSetId"] != "conformance" ||
		meta.FlagMetadata["version"] != "v2" || meta.FlagMetadata["integer"] != 2.0 {
		t.Errorf("metadata-flag = %+v, %v", meta, err)
	}
}
