package flagcore_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

// The shared vectors of tests/vectors (format_version 2), read with UseNumber: they hold
// integers above 2^53, which must reach the engine exactly.

type vectorFile struct {
	Format        string          `json:"format"`
	FormatVersion int             `json:"format_version"`
	Snapshot      json.RawMessage `json:"snapshot"`
	Kills         []string        `json:"kills"`
	Cases         []vectorCase    `json:"cases"`
}

type vectorCase struct {
	Name    string          `json:"name"`
	Flag    string          `json:"flag"`
	Type    string          `json:"type"`
	Default json.RawMessage `json:"default"`
	Context struct {
		Key        *string         `json:"key"`
		Attributes json.RawMessage `json:"attributes"`
	} `json:"context"`
	Expected struct {
		Value     json.RawMessage `json:"value"`
		Variant   *string         `json:"variant"`
		Reason    string          `json:"reason"`
		ErrorCode *string         `json:"error_code"`
		RuleIndex *int            `json:"rule_index"`
		RuleID    *string         `json:"rule_id"`
		Target    bool            `json:"target"`
		Bucket    *int            `json:"bucket"`
		Step      requiredInt     `json:"step"`
	} `json:"expected"`
}

// requiredInt is an integer or null that must be present (format_version 2 added `step`
// to every case; a file without it is not of that version).
type requiredInt struct {
	present bool
	value   *int
}

func (r *requiredInt) UnmarshalJSON(raw []byte) error {
	r.present = true
	return json.Unmarshal(raw, &r.value)
}

func decode(t *testing.T, raw []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}

// orderedAttributes reads a JSON object's members in document order.
func orderedAttributes(t *testing.T, raw json.RawMessage) []flagcore.Attribute {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("attributes are not an object: %s", raw)
	}
	var attrs []flagcore.Attribute
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		value, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch v := value.(type) {
		case string:
			attrs = append(attrs, flagcore.String(name, v))
		case bool:
			attrs = append(attrs, flagcore.Bool(name, v))
		case json.Number:
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				attrs = append(attrs, flagcore.Int64(name, i))
			} else if f, err := v.Float64(); err == nil {
				attrs = append(attrs, flagcore.Float(name, f))
			} else {
				t.Fatalf("attribute %s: bad number %s", name, v)
			}
		default:
			t.Fatalf("attribute %s: unsupported value %v", name, value)
		}
	}
	return attrs
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	decode(t, a, &x)
	decode(t, b, &y)
	return reflect.DeepEqual(normalize(x), normalize(y))
}

// normalize makes 1 and 1.0 equal, as JSON equality requires.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return float64(i)
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalize(v[k])
		}
	}
	return v
}

func TestVectors(t *testing.T) {
	files, err := filepath.Glob("../../tests/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors found: %v", err)
	}
	cases := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var file vectorFile
			decode(t, raw, &file)
			if file.Format != "flagcore-vectors" || file.FormatVersion != 2 {
				t.Fatalf("unknown format %q version %d", file.Format, file.FormatVersion)
			}
			store := flagcore.NewStore()
			defer store.Close()
			if len(file.Snapshot) > 0 && string(file.Snapshot) != "null" {
				if _, err := store.Update(file.Snapshot); err != nil {
					t.Fatalf("loading the snapshot: %v", err)
				}
			}
			for _, flag := range file.Kills {
				if err := store.Kill(flag, "vector kill"); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := store.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			for _, c := range file.Cases {
				cases++
				runVectorCase(t, snap, c)
			}
		})
	}
	if cases == 0 {
		t.Fatal("no cases ran")
	}
}

func runVectorCase(t *testing.T, snap *flagcore.Snapshot, c vectorCase) {
	t.Helper()
	attrs := orderedAttributes(t, c.Context.Attributes)
	var ctx *flagcore.Context
	var err error
	if c.Context.Key != nil {
		ctx, err = flagcore.NewContext(*c.Context.Key, attrs...)
	} else {
		ctx, err = flagcore.NewAnonymousContext(attrs...)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	defer ctx.Close()

	type common struct {
		variant, reason, errorCode, ruleID string
		ruleIndex, bucket, step            int
		target                             bool
	}
	var got common
	fill := func(variant string, reason flagcore.Reason, code flagcore.ErrorCode, ruleIndex int, ruleID string, target bool, bucket, step int) {
		got = common{variant, string(reason), string(code), ruleID, ruleIndex, bucket, step, target}
	}
	valueOK := true
	var gotValue any
	switch c.Type {
	case "bool":
		var def, want bool
		decode(t, c.Default, &def)
		decode(t, c.Expected.Value, &want)
		d, err := snap.BoolDetails(c.Flag, def, ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		valueOK, gotValue = d.Value == want, d.Value
		fill(d.Variant, d.Reason, d.ErrorCode, d.RuleIndex, d.RuleID, d.Target, d.Bucket, d.Step)
	case "int":
		var def, want json.Number
		decode(t, c.Default, &def)
		decode(t, c.Expected.Value, &want)
		di, _ := strconv.ParseInt(string(def), 10, 64)
		wi, _ := strconv.ParseInt(string(want), 10, 64)
		d, err := snap.IntDetails(c.Flag, di, ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		valueOK, gotValue = d.Value == wi, d.Value
		fill(d.Variant, d.Reason, d.ErrorCode, d.RuleIndex, d.RuleID, d.Target, d.Bucket, d.Step)
	case "float":
		var def, want float64
		decode(t, c.Default, &def)
		decode(t, c.Expected.Value, &want)
		d, err := snap.FloatDetails(c.Flag, def, ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		valueOK, gotValue = d.Value == want, d.Value
		fill(d.Variant, d.Reason, d.ErrorCode, d.RuleIndex, d.RuleID, d.Target, d.Bucket, d.Step)
	case "string":
		var def, want string
		decode(t, c.Default, &def)
		decode(t, c.Expected.Value, &want)
		d, err := snap.StringDetails(c.Flag, def, ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		valueOK, gotValue = d.Value == want, d.Value
		fill(d.Variant, d.Reason, d.ErrorCode, d.RuleIndex, d.RuleID, d.Target, d.Bucket, d.Step)
	case "json":
		d, err := snap.JSONDetails(c.Flag, c.Default, ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		valueOK, gotValue = jsonEqual(t, d.Value, c.Expected.Value), string(d.Value)
		fill(d.Variant, d.Reason, d.ErrorCode, d.RuleIndex, d.RuleID, d.Target, d.Bucket, d.Step)
	default:
		t.Fatalf("%s: unknown type %q", c.Name, c.Type)
	}

	e := c.Expected
	if !e.Step.present {
		t.Fatalf("%s: expected lacks step", c.Name)
	}
	want := common{reason: e.Reason, ruleIndex: -1, bucket: -1, step: -1, target: e.Target}
	if e.Variant != nil {
		want.variant = *e.Variant
	}
	if e.ErrorCode != nil {
		want.errorCode = *e.ErrorCode
	}
	if e.RuleIndex != nil {
		want.ruleIndex = *e.RuleIndex
	}
	if e.RuleID != nil {
		want.ruleID = *e.RuleID
	}
	if e.Bucket != nil {
		want.bucket = *e.Bucket
	}
	if e.Step.value != nil {
		want.step = *e.Step.value
	}
	if !valueOK {
		t.Errorf("%s: value: expected %s, got %v", c.Name, e.Value, gotValue)
	}
	if got != want {
		t.Errorf("%s: details: expected %+v, got %+v", c.Name, want, got)
	}
}
