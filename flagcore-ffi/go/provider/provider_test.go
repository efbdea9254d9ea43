package provider_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/flagcore/flagcore/flagcore-ffi/go/provider"
	"github.com/open-feature/go-sdk/openfeature"
)

const snapshot = `{"version": 7, "segments": {"beta": {"rules": [{"conditions": [
    {"attribute": "beta", "op": "eq", "values": [true]}]}]}},
  "flags": {
  "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "metadata": {"owner": "payments", "ticket": 42},
    "targets": [{"variant": "on", "keys": ["vip"]}],
    "rules": [{"id": "beta-half", "conditions": [{"in_segment": "beta"}],
      "serve": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}],
    "fallthrough": {"variant": "off"}},
  "theme": {"variants": {"light": "#fff", "dark": "#000"}, "enabled": true, "off_variant": "light",
    "rules": [{"id": "de", "conditions": [{"attribute": "country", "op": "eq", "values": ["DE"]}],
      "serve": {"variant": "dark"}}],
    "fallthrough": {"variant": "light"}},
  "retries": {"variants": {"few": 2, "many": 9}, "enabled": true, "off_variant": "few",
    "fallthrough": {"variant": "many"}},
  "ratio": {"variants": {"low": 0.25, "high": 0.75}, "enabled": false, "off_variant": "low",
    "fallthrough": {"variant": "high"}},
  "limits": {"variants": {"a": {"max": 10, "tags": ["x"]}}, "enabled": true, "off_variant": "a",
    "fallthrough": {"variant": "a"}},
  "by-account": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"rollout": {"by": "account", "split": [{"variant": "on", "weight": 100}]}}},
  "needs-checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "prerequisites": [{"flag": "checkout", "variant": "on"}], "fallthrough": {"variant": "on"}},
  "ramped": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"rollout": {"split": [{"variant": "off", "weight": 100}], "schedule": [
      {"at": "2020-01-01T00:00:00Z", "split": [{"variant": "on", "weight": 100}]},
      {"at": "2099-01-01T00:00:00Z", "split": [{"variant": "off", "weight": 100}]}]}}}
}}`

func client(t *testing.T) (*openfeature.Client, *flagcore.Store) {
	t.Helper()
	store, err := flagcore.NewStoreFromBytes([]byte(snapshot))
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
	return openfeature.NewDefaultClient(), store
}

func TestAllTypesThroughTheSDK(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	beta := openfeature.NewEvaluationContext("user-17", map[string]any{"beta": true, "country": "DE"})

	b, err := c.BooleanValueDetails(ctx, "checkout", true, beta)
	if err != nil {
		t.Fatal(err)
	}
	if b.Reason != openfeature.SplitReason || b.Variant == "" || b.FlagMetadata[provider.MetadataRuleID] != "beta-half" ||
		b.FlagMetadata["owner"] != "payments" || b.FlagMetadata["ticket"] != 42.0 {
		t.Errorf("bool details = %+v", b)
	}
	if bucket, err := b.FlagMetadata.GetInt(provider.MetadataBucket); err != nil || bucket < 0 || bucket > 99999 ||
		b.Value != (bucket < 50000) {
		t.Errorf("bucket %d (%v) does not explain value %v", bucket, err, b.Value)
	}
	if v, _ := b.FlagMetadata.GetInt(provider.MetadataVersion); v != 7 {
		t.Errorf("snapshot version = %d", v)
	}

	s, err := c.StringValueDetails(ctx, "theme", "?", beta)
	if err != nil || s.Value != "#000" || s.Variant != "dark" || s.Reason != openfeature.TargetingMatchReason {
		t.Errorf("string details = %+v, %v", s, err)
	}
	i, err := c.IntValueDetails(ctx, "retries", 0, beta)
	if err != nil || i.Value != 9 || i.Reason != openfeature.StaticReason {
		t.Errorf("int details = %+v, %v", i, err)
	}
	f, err := c.FloatValueDetails(ctx, "ratio", 0, beta)
	if err != nil || f.Value != 0.25 || f.Reason != openfeature.DisabledReason {
		t.Errorf("float details = %+v, %v", f, err)
	}
	f, err = c.FloatValueDetails(ctx, "retries", 0, beta)
	if err != nil || f.Value != 9 {
		t.Errorf("float of an int flag = %+v, %v", f, err)
	}
	o, err := c.ObjectValueDetails(ctx, "limits", map[string]any{}, beta)
	want := map[string]any{"max": 10.0, "tags": []any{"x"}}
	if err != nil || !reflect.DeepEqual(o.Value, want) || o.Variant != "a" {
		t.Errorf("object details = %+v, %v", o, err)
	}
	vip, err := c.BooleanValueDetails(ctx, "checkout", false, openfeature.NewEvaluationContext("vip", nil))
	if err != nil || !vip.Value || vip.FlagMetadata[provider.MetadataTarget] != true {
		t.Errorf("target details = %+v, %v", vip, err)
	}
	pre, err := c.BooleanValueDetails(ctx, "needs-checkout", true, openfeature.NewEvaluationContext("nobody", nil))
	if err != nil || pre.Value || pre.Reason != "PREREQUISITE_FAILED" {
		t.Errorf("prerequisite details = %+v, %v", pre, err)
	}
}

func TestScheduleStepMetadata(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	ec := openfeature.NewEvaluationContext("user-17", map[string]any{"beta": true})
	r, err := c.BooleanValueDetails(ctx, "ramped", false, ec)
	if err != nil || !r.Value || r.Reason != openfeature.SplitReason {
		t.Fatalf("ramped = %+v, %v", r, err)
	}
	if step, err := r.FlagMetadata.GetInt(provider.MetadataStep); err != nil || step != 0 {
		t.Errorf("step = %d, %v", step, err)
	}
	// A rollout without a schedule has a bucket but no step.
	b, err := c.BooleanValueDetails(ctx, "checkout", false, ec)
	if err != nil || b.Reason != openfeature.SplitReason {
		t.Fatalf("checkout = %+v, %v", b, err)
	}
	if _, ok := b.FlagMetadata[provider.MetadataStep]; ok {
		t.Errorf("unscheduled rollout has a step: %+v", b.FlagMetadata)
	}
}

func TestErrorsThroughTheSDK(t *testing.T) {
	c, store := client(t)
	ctx := context.Background()
	ec := openfeature.NewEvaluationContext("user-1", nil)

	d, err := c.BooleanValueDetails(ctx, "missing", true, ec)
	if err == nil || !d.Value || d.ErrorCode != openfeature.FlagNotFoundCode || d.Reason != openfeature.ErrorReason {
		t.Errorf("missing = %+v, %v", d, err)
	}
	s, err := c.StringValueDetails(ctx, "checkout", "dflt", ec)
	if err == nil || s.Value != "dflt" || s.ErrorCode != openfeature.TypeMismatchCode {
		t.Errorf("mismatch = %+v, %v", s, err)
	}
	anon := openfeature.NewTargetlessEvaluationContext(nil)
	a, err := c.BooleanValueDetails(ctx, "by-account", false, anon)
	if err == nil || a.ErrorCode != openfeature.TargetingKeyMissingCode {
		t.Errorf("no bucketing attribute = %+v, %v", a, err)
	}
	withAccount := openfeature.NewTargetlessEvaluationContext(map[string]any{"account": int64(1027)})
	if on, err := c.BooleanValue(ctx, "by-account", false, withAccount); err != nil || !on {
		t.Errorf("by account = %v, %v", on, err)
	}
	o, err := c.ObjectValueDetails(ctx, "missing", []any{1}, ec)
	if err == nil || !reflect.DeepEqual(o.Value, []any{1}) || o.ErrorCode != openfeature.FlagNotFoundCode {
		t.Errorf("object default = %+v, %v", o, err)
	}
	big := map[string]any{}
	for i := 0; i < flagcore.MaxAttributes+1; i++ {
		big[string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	inv, err := c.BooleanValueDetails(ctx, "checkout", true, openfeature.NewEvaluationContext("k", big))
	if err == nil || inv.ErrorCode != openfeature.InvalidContextCode || !inv.Value {
		t.Errorf("too many attributes = %+v, %v", inv, err)
	}
	_ = store.Kill("checkout", "incident")
	k, err := c.BooleanValueDetails(ctx, "checkout", true, openfeature.NewEvaluationContext("vip", nil))
	if err != nil || k.Value || k.Reason != openfeature.DisabledReason {
		t.Errorf("killed = %+v, %v", k, err)
	}
}

func TestNotReadyStore(t *testing.T) {
	store := flagcore.NewStore()
	defer store.Close()
	if err := openfeature.SetProviderAndWait(provider.New(store)); err != nil {
		t.Fatal(err)
	}
	defer openfeature.Shutdown()
	d, err := openfeature.NewDefaultClient().IntValueDetails(context.Background(), "retries", 3,
		openfeature.NewEvaluationContext("k", nil))
	if err == nil || d.Value != 3 || d.ErrorCode != openfeature.ProviderNotReadyCode {
		t.Errorf("details = %+v, %v", d, err)
	}
	if provider.New(store).Metadata().Name != "flagcore" {
		t.Error("name")
	}
}

// configChanges registers a PROVIDER_CONFIGURATION_CHANGED handler on c, through the SDK.
func configChanges(t *testing.T, c *openfeature.Client) <-chan openfeature.EventDetails {
	t.Helper()
	got := make(chan openfeature.EventDetails, 16)
	handler := func(details openfeature.EventDetails) { got <- details }
	c.AddHandler(openfeature.ProviderConfigChange, &handler)
	t.Cleanup(func() { c.RemoveHandler(openfeature.ProviderConfigChange, &handler) })
	return got
}

func nextChange(t *testing.T, got <-chan openfeature.EventDetails, version int64, flags ...string) {
	t.Helper()
	select {
	case details := <-got:
		if details.ProviderName != provider.Name || !reflect.DeepEqual(details.FlagChanges, flags) ||
			details.EventMetadata[provider.MetadataVersion] != version {
			t.Errorf("event = %+v, want flags %v at version %d", details, flags, version)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no configuration change for %v", flags)
	}
}

// The provider hears of every change of its store, however it was made: here the store's
// own Update and Kill, called without the provider.
func TestConfigurationChangedFromTheStore(t *testing.T) {
	c, store := client(t)
	got := configChanges(t, c)
	// "theme" now serves dark to everyone; nothing else changed.
	doc := strings.Replace(snapshot, `"version": 7`, `"version": 8`, 1)
	doc = strings.Replace(doc, `"fallthrough": {"variant": "light"}`, `"fallthrough": {"variant": "dark"}`, 1)
	if v, err := store.Update([]byte(doc)); err != nil || v != 8 {
		t.Fatalf("update = %d, %v", v, err)
	}
	nextChange(t, got, 8, "theme")
	if s, _ := c.StringValue(context.Background(), "theme", "?", openfeature.NewEvaluationContext("u", nil)); s != "#000" {
		t.Errorf("theme after the update = %q", s)
	}
	// A kill names the flag killed and, as an update that changed it would,
	// "needs-checkout", which has it as a prerequisite.
	if err := store.Kill("checkout", "incident"); err != nil {
		t.Fatal(err)
	}
	nextChange(t, got, 8, "checkout", "needs-checkout")
	if _, err := store.Revive("checkout"); err != nil {
		t.Fatal(err)
	}
	nextChange(t, got, 8, "checkout", "needs-checkout")
	if st := c.State(); st != openfeature.ReadyState {
		t.Errorf("state = %v", st)
	}
}

// After Shutdown the provider no longer listens; the store goes on serving its owner.
func TestShutdownEndsTheEvents(t *testing.T) {
	store, err := flagcore.NewStoreFromBytes([]byte(snapshot))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := provider.New(store)
	if err := p.Init(openfeature.EvaluationContext{}); err != nil {
		t.Fatal(err)
	}
	if err := store.Kill("theme", "one"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-p.EventChannel():
		if e.EventType != openfeature.ProviderConfigChange || !reflect.DeepEqual(e.FlagChanges, []string{"theme"}) {
			t.Errorf("event = %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	p.Shutdown()
	p.Shutdown()
	if err := store.Kill("retries", "two"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-p.EventChannel():
		t.Errorf("event after Shutdown: %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
	closed := flagcore.NewStore()
	closed.Close()
	if err := provider.New(closed).Init(openfeature.EvaluationContext{}); err == nil {
		t.Error("Init over a closed store succeeded")
	}
}
