package flagcore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// A second flagd document, merged after flags.json: it redefines boolean-flag (later
// definitions win) and adds a flag whose targeting uses flags.json's $evaluators.
const flagdOverride = `{"flags": {
  "boolean-flag": {"state": "ENABLED", "variants": {"on": true, "off": false},
                   "defaultVariant": "off"},
  "admin-flag": {"state": "ENABLED", "variants": {"yes": "yes", "no": "no"},
                 "defaultVariant": "no",
                 "targeting": {"if": [{"$ref": "is_privileged"}, "yes", "no"]}}}}`

// servesFlagsJSON reports whether store serves flags.json's fractional-flag as flagd
// buckets it.
func servesFlagsJSON(t *testing.T, store *flagcore.Store) bool {
	t.Helper()
	ctx, err := flagcore.NewAnonymousContext(flagcore.String("user.name", "jack"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	return store.String("fractional-flag", "fallback", ctx) == "hearts"
}

func wantVersion(t *testing.T, store *flagcore.Store, want uint64) {
	t.Helper()
	if got, ok := store.Version(); !ok || got != want {
		t.Errorf("version = %d, %v; want %d", got, ok, want)
	}
}

func wantCode(t *testing.T, err error, code flagcore.Code) {
	t.Helper()
	var e *flagcore.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("err = %v; want code %s", err, code)
	}
}

func TestFlagdStatedFormat(t *testing.T) {
	doc, err := os.ReadFile(flagdFlags)
	if err != nil {
		t.Fatal(err)
	}
	store, err := flagcore.NewStoreFromFileAs(flagdFlags, flagcore.FormatFlagd)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	wantVersion(t, store, 1)

	// Stated as native, a flagd file is no snapshot: refused, the serving one stays.
	if _, err := store.UpdateAs(doc, flagcore.FormatNative); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Errorf("flagd as native: %v", err)
	}
	if _, err := store.UpdateFileAs(flagdFlags, flagcore.FormatNative); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Errorf("flagd file as native: %v", err)
	}
	// Stated as flagd, documents that are not flagd documents are refused the same way.
	for _, notFlagd := range []string{`{"version": 3}`, `[1, 2]`, `flags`, ``, `{"flags": ["boolean-flag"]}`} {
		_, err := store.UpdateAs([]byte(notFlagd), flagcore.FormatFlagd)
		var e *flagcore.Error
		if !errors.As(err, &e) || e.Code != flagcore.CodeInvalidSnapshot || len(e.ValidationErrors) == 0 {
			t.Errorf("%q as flagd: %v", notFlagd, err)
		}
	}
	// A number that is no Format is an error, not a crash.
	_, err = store.UpdateAs(doc, flagcore.Format(7))
	wantCode(t, err, flagcore.CodeInvalidArgument)
	_, err = store.UpdateFileAs(flagdFlags, flagcore.Format(7))
	wantCode(t, err, flagcore.CodeInvalidArgument)
	if _, err := store.UpdateFileAs("/nonexistent/flags.json", flagcore.FormatFlagd); !errors.Is(err, flagcore.ErrIO) {
		t.Errorf("missing file: %v", err)
	}
	wantVersion(t, store, 1)
	if !servesFlagsJSON(t, store) {
		t.Error("a refused update changed what is served")
	}

	// Stated rightly, or detected: the next versions.
	for i, format := range []flagcore.Format{flagcore.FormatFlagd, flagcore.FormatDetect} {
		version, err := store.UpdateAs(doc, format)
		if err != nil || version != uint64(2+i) {
			t.Errorf("as %s: %d, %v", format, version, err)
		}
	}
	version, err := store.UpdateFileAs(flagdFlags, flagcore.FormatDetect)
	if err != nil || version != 4 {
		t.Errorf("file, detected: %d, %v", version, err)
	}

	if _, err := flagcore.NewStoreFromBytesAs(doc, flagcore.FormatNative); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Errorf("NewStoreFromBytesAs native: %v", err)
	}
	_, err = flagcore.NewStoreFromBytesAs(doc, flagcore.Format(3))
	wantCode(t, err, flagcore.CodeInvalidArgument)
	_, err = flagcore.NewStoreFromFileAs(flagdFlags, flagcore.Format(3))
	wantCode(t, err, flagcore.CodeInvalidArgument)
	fromBytes, err := flagcore.NewStoreFromBytesAs(doc, flagcore.FormatFlagd)
	if err != nil {
		t.Fatal(err)
	}
	defer fromBytes.Close()
	if !servesFlagsJSON(t, fromBytes) {
		t.Error("NewStoreFromBytesAs: fractional-flag")
	}

	names := map[flagcore.Format]string{flagcore.FormatDetect: "detect", flagcore.FormatNative: "native",
		flagcore.FormatFlagd: "flagd", flagcore.Format(9): "Format(9)"}
	for format, name := range names {
		if format.String() != name {
			t.Errorf("%d: %q, want %q", uint32(format), format.String(), name)
		}
	}
}

func TestFlagdMerged(t *testing.T) {
	doc, err := os.ReadFile(flagdFlags)
	if err != nil {
		t.Fatal(err)
	}
	store, err := flagcore.NewStoreMerged(doc, []byte(flagdOverride))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	wantVersion(t, store, 1)
	if !servesFlagsJSON(t, store) || store.Bool("boolean-flag", true, nil) {
		t.Error("merged: flags.json's flags, the later boolean-flag")
	}
	admin, err := flagcore.NewAnonymousContext(flagcore.String("role", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The second document's flag uses the first one's evaluator is_privileged.
	if got := store.String("admin-flag", "fallback", admin); got != "yes" {
		t.Errorf("admin-flag for an admin = %q", got)
	}
	// Each flag keeps its own document's metadata: admin-flag has none of flags.json's.
	snap, err := store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	adminMeta, err1 := snap.Metadata("admin-flag")
	fileMeta, err2 := snap.Metadata("metadata-flag")
	snap.Close()
	if err1 != nil || err2 != nil || len(adminMeta) != 0 || fileMeta["flagSetId"] != "conformance" {
		t.Errorf("metadata: admin-flag %v (%v), metadata-flag %v (%v)", adminMeta, err1, fileMeta, err2)
	}

	changes := make(chan flagcore.Change, 4)
	unsubscribe, err := store.Subscribe(func(c flagcore.Change) { changes <- c })
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	// In the other order, flags.json's boolean-flag wins, and admin-flag is still there.
	version, err := store.UpdateMerged([]byte(flagdOverride), doc)
	if err != nil || version != 2 || !store.Bool("boolean-flag", false, nil) {
		t.Errorf("reversed: %d, %v", version, err)
	}
	if c := <-changes; c.Version != 2 || !slices.Contains(c.Flags, "boolean-flag") {
		t.Errorf("change = %+v", c)
	}

	// Refused merges keep the serving snapshot.
	_, err = store.UpdateMerged()
	wantCode(t, err, flagcore.CodeInvalidArgument)
	for _, bad := range []string{`{"version": 9}`, `[]`, "{\"flags\": {\"caf\xe9\": {}}}"} {
		if _, err := store.UpdateMerged(doc, []byte(bad)); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
			t.Errorf("merged with %q: %v", bad, err)
		}
	}
	wantVersion(t, store, 2)
	if !servesFlagsJSON(t, store) || !store.Bool("boolean-flag", false, nil) {
		t.Error("a refused merge changed what is served")
	}

	_, err = flagcore.NewStoreMerged()
	wantCode(t, err, flagcore.CodeInvalidArgument)
	if _, err := flagcore.NewStoreMerged(doc, nil); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Errorf("NewStoreMerged with an empty document: %v", err)
	}

	store.Close()
	if _, err := store.UpdateMerged(doc); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	if _, err := store.UpdateAs(doc, flagcore.FormatFlagd); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}

func TestFlagdFiles(t *testing.T) {
	override := filepath.Join(t.TempDir(), "override.json")
	if err := os.WriteFile(override, []byte(flagdOverride), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := flagcore.NewStoreFromFiles(flagdFlags, override)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	wantVersion(t, store, 1)
	if !servesFlagsJSON(t, store) || store.Bool("boolean-flag", true, nil) {
		t.Error("merged files: flags.json's flags, the later boolean-flag")
	}
	version, err := store.UpdateFiles(flagdFlags)
	if err != nil || version != 2 || !store.Bool("boolean-flag", false, nil) {
		t.Errorf("one file: %d, %v", version, err)
	}

	// One file that cannot be read: nothing is loaded, and the error names it.
	missing := filepath.Join(t.TempDir(), "missing.json")
	_, err = store.UpdateFiles(override, missing)
	var e *flagcore.Error
	if !errors.As(err, &e) || e.Code != flagcore.CodeIO || !strings.Contains(e.Message, "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	_, err = store.UpdateFiles(override, "")
	wantCode(t, err, flagcore.CodeInvalidArgument)
	_, err = store.UpdateFiles()
	wantCode(t, err, flagcore.CodeInvalidArgument)
	wantVersion(t, store, 2)
	if !store.Bool("boolean-flag", false, nil) {
		t.Error("a refused update changed what is served")
	}

	if _, err := flagcore.NewStoreFromFiles(missing); !errors.Is(err, flagcore.ErrIO) {
		t.Errorf("NewStoreFromFiles of a missing file: %v", err)
	}
	_, err = flagcore.NewStoreFromFiles()
	wantCode(t, err, flagcore.CodeInvalidArgument)
}

// flagd's newer, CBOR-keyed bucketing: flagd's conformance tables put `jack` in hearts
// under the current bucketing and in diamonds under the newer one.
func TestFlagdFractionalV3(t *testing.T) {
	store := flagcore.NewStore()
	defer store.Close()
	if err := store.SetFlagdFractional(flagcore.FlagdFractionalV3); err != nil {
		t.Fatal(err)
	}
	wantCode(t, store.SetFlagdFractional(flagcore.FlagdFractional(4)), flagcore.CodeInvalidArgument)
	if _, err := store.UpdateFile(flagdFlags); err != nil {
		t.Fatal(err)
	}
	ctx, err := flagcore.NewAnonymousContext(flagcore.String("user.name", "jack"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	snap, err := store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if d, err := snap.StringDetails("fractional-flag", "?", ctx); err != nil || d.Value != "diamonds" {
		t.Errorf("jack under v3: %v, %v; want diamonds", d.Value, err)
	}
}
