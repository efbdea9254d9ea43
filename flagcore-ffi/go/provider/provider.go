// Package provider is an OpenFeature provider (github.com/open-feature/go-sdk) backed by a
// flagcore [flagcore.Store]: all five evaluation types, flagcore's reasons and error codes
// under their OpenFeature names, and flag metadata (the deciding rule's id and index, the
// rollout bucket and schedule step, and the flag's own `metadata` from the snapshot).
//
//	store, _ := flagcore.NewStoreFromFile("flags.json")
//	_ = openfeature.SetProviderAndWait(provider.New(store))
//	client := openfeature.NewDefaultClient()
//	on, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("user-17", attrs))
//
// The evaluation context's targeting key is flagcore's targeting key (the attribute `key`
// in rules); its attributes become flagcore attributes (strings, booleans, integers,
// floats, json.Number, time.Time as Unix milliseconds; values of other types are skipped).
// The store stays the caller's: update it, kill flags, and Close it after Shutdown.
//
// Events: from Init to Shutdown, each change of the store emits PROVIDER_CONFIGURATION_CHANGED
// with the names of the flags that changed (FlagChanges) and the snapshot version then
// serving (EventMetadata["snapshotVersion"]), whatever made it: [flagcore.Store.Update], a
// kill or revive, a [flagcore.Source], a guardrail trip ([flagcore.Store.Subscribe]).
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/open-feature/go-sdk/openfeature"
)

// Name is the provider's name in OpenFeature metadata.
const Name = "flagcore"

// Flag metadata keys the provider sets besides the flag's own metadata.
const (
	MetadataRuleID    = "ruleId"    // string: the id of the rule that decided
	MetadataRuleIndex = "ruleIndex" // int64: the index of the rule that decided
	MetadataBucket    = "bucket"    // int64: the user's bucket (0..=99999) when a rollout decided
	MetadataStep      = "step"      // int64: the schedule step in force when a scheduled rollout decided
	MetadataTarget    = "target"    // bool: true when an individual target decided
	MetadataVersion   = "snapshotVersion"
)

// Provider evaluates OpenFeature flags with a flagcore store.
type Provider struct {
	store *flagcore.Store
	// events is what EventChannel gives the SDK; never closed (the SDK stops reading on
	// its own shutdown signal).
	events chan openfeature.Event

	mu sync.Mutex
	// unsubscribe ends the store subscription Init made, and stopped ends the sends it
	// may be blocked in; both nil outside Init..Shutdown.
	unsubscribe func()
	stopped     chan struct{}
}

var (
	_ openfeature.FeatureProvider = (*Provider)(nil)
	_ openfeature.StateHandler    = (*Provider)(nil)
	_ openfeature.EventHandler    = (*Provider)(nil)
)

// New returns a provider evaluating with store.
func New(store *flagcore.Store) *Provider {
	return &Provider{store: store, events: make(chan openfeature.Event, 16)}
}

// Metadata names the provider.
func (p *Provider) Metadata() openfeature.Metadata {
	return openfeature.Metadata{Name: Name}
}

// Hooks returns none.
func (p *Provider) Hooks() []openfeature.Hook {
	return nil
}

// Init is called by the SDK when the provider is registered: the store is ready as soon as
// it exists (before its first snapshot, evaluations report PROVIDER_NOT_READY). It
// subscribes to the store's changes, for the configuration-changed events; it fails only
// for a closed store.
func (p *Provider) Init(openfeature.EvaluationContext) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unsubscribe != nil {
		return nil
	}
	stopped := make(chan struct{})
	unsubscribe, err := p.store.Subscribe(func(c flagcore.Change) { p.emit(c, stopped) })
	if err != nil {
		return err
	}
	p.unsubscribe, p.stopped = unsubscribe, stopped
	return nil
}

// Shutdown ends the subscription to the store's changes and leaves the store to its owner.
func (p *Provider) Shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unsubscribe != nil {
		p.unsubscribe()
		close(p.stopped)
		p.unsubscribe, p.stopped = nil, nil
	}
}

// EventChannel gives the SDK the provider's events.
func (p *Provider) EventChannel() <-chan openfeature.Event {
	return p.events
}

// emit sends the configuration-changed event of a store change. It runs on the store's
// subscriber goroutine, never under the store's lock, so waiting for the SDK to read it
// blocks no writer; it gives up when the provider shuts down.
func (p *Provider) emit(c flagcore.Change, stopped <-chan struct{}) {
	details := openfeature.ProviderEventDetails{
		Message:     "flags changed; no snapshot yet",
		FlagChanges: c.Flags,
	}
	if c.HasVersion {
		details.Message = fmt.Sprintf("flags changed; snapshot version %d", c.Version)
		details.EventMetadata = map[string]any{MetadataVersion: int64(c.Version)}
	}
	event := openfeature.Event{
		ProviderName:         Name,
		EventType:            openfeature.ProviderConfigChange,
		ProviderEventDetails: details,
	}
	select {
	case p.events <- event:
	case <-stopped:
	}
}

// evaluation is what one typed evaluation returns, before its value is converted.
type evaluation[T any] struct {
	details flagcore.Details[T]
	err     error
	meta    openfeature.FlagMetadata
}

func evaluate[T any](p *Provider, flag string, def T, flat openfeature.FlattenedContext,
	get func(*flagcore.Snapshot, *flagcore.Context) (flagcore.Details[T], error)) evaluation[T] {
	ctx, err := contextOf(flat)
	if err != nil {
		return evaluation[T]{err: openfeature.NewInvalidContextResolutionError(err.Error())}
	}
	defer ctx.Close()
	snap, err := p.store.Snapshot()
	if err != nil {
		return evaluation[T]{err: openfeature.NewGeneralResolutionError("the store is closed", err)}
	}
	defer snap.Close()
	d, err := get(snap, ctx)
	if err != nil {
		return evaluation[T]{err: openfeature.NewGeneralResolutionError(err.Error(), err)}
	}
	return evaluation[T]{details: d, meta: metadata(snap, flag, d)}
}

func contextOf(flat openfeature.FlattenedContext) (*flagcore.Context, error) {
	key, hasKey := flat[openfeature.TargetingKey].(string)
	attrs := make(map[string]any, len(flat))
	for name, value := range flat {
		if name != openfeature.TargetingKey {
			attrs[name] = value
		}
	}
	return flagcore.NewContextFromMap(key, hasKey && key != "", attrs)
}

func metadata[T any](snap *flagcore.Snapshot, flag string, d flagcore.Details[T]) openfeature.FlagMetadata {
	meta := openfeature.FlagMetadata{}
	if own, err := snap.Metadata(flag); err == nil {
		for k, v := range own {
			meta[k] = v
		}
	}
	if d.RuleIndex >= 0 {
		meta[MetadataRuleIndex] = int64(d.RuleIndex)
		if d.RuleID != "" {
			meta[MetadataRuleID] = d.RuleID
		}
	}
	if d.Bucket >= 0 {
		meta[MetadataBucket] = int64(d.Bucket)
	}
	if d.Step >= 0 {
		meta[MetadataStep] = int64(d.Step)
	}
	if d.Target {
		meta[MetadataTarget] = true
	}
	if v, ok := snap.Version(); ok {
		meta[MetadataVersion] = int64(v)
	}
	return meta
}

// resolution turns flagcore details into OpenFeature's.
func resolution[T any](e evaluation[T]) openfeature.ProviderResolutionDetail {
	if e.err != nil {
		var re openfeature.ResolutionError
		errors.As(e.err, &re)
		return openfeature.ProviderResolutionDetail{ResolutionError: re, Reason: openfeature.ErrorReason}
	}
	d := e.details
	out := openfeature.ProviderResolutionDetail{
		Reason:       openfeature.Reason(d.Reason),
		Variant:      d.Variant,
		FlagMetadata: e.meta,
	}
	switch d.ErrorCode {
	case flagcore.ErrorCodeNone:
	case flagcore.ErrorCodeProviderNotReady:
		out.ResolutionError = openfeature.NewProviderNotReadyResolutionError("no flagcore snapshot is loaded yet")
	case flagcore.ErrorCodeFlagNotFound:
		out.ResolutionError = openfeature.NewFlagNotFoundResolutionError("the snapshot has no such flag")
	case flagcore.ErrorCodeTypeMismatch:
		out.ResolutionError = openfeature.NewTypeMismatchResolutionError("the flag's variants are of another type")
	case flagcore.ErrorCodeTargetingKeyMissing:
		out.ResolutionError = openfeature.NewTargetingKeyMissingResolutionError("the context lacks the rollout's bucketing attribute")
	case flagcore.ErrorCodeParseError:
		out.ResolutionError = openfeature.NewParseErrorResolutionError("the flag's definition or targeting could not be read")
	default:
		out.ResolutionError = openfeature.NewGeneralResolutionError(string(d.ErrorCode))
	}
	return out
}

// BooleanEvaluation evaluates a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, flat openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	e := evaluate(p, flag, def, flat, func(s *flagcore.Snapshot, c *flagcore.Context) (flagcore.Details[bool], error) {
		return s.BoolDetails(flag, def, c)
	})
	return openfeature.BoolResolutionDetail{Value: valueOr(e, def), ProviderResolutionDetail: resolution(e)}
}

// StringEvaluation evaluates a string flag.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, flat openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	e := evaluate(p, flag, def, flat, func(s *flagcore.Snapshot, c *flagcore.Context) (flagcore.Details[string], error) {
		return s.StringDetails(flag, def, c)
	})
	return openfeature.StringResolutionDetail{Value: valueOr(e, def), ProviderResolutionDetail: resolution(e)}
}

// FloatEvaluation evaluates a number flag (integer flags too).
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, flat openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	e := evaluate(p, flag, def, flat, func(s *flagcore.Snapshot, c *flagcore.Context) (flagcore.Details[float64], error) {
		return s.FloatDetails(flag, def, c)
	})
	return openfeature.FloatResolutionDetail{Value: valueOr(e, def), ProviderResolutionDetail: resolution(e)}
}

// IntEvaluation evaluates an integer flag.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, flat openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	e := evaluate(p, flag, def, flat, func(s *flagcore.Snapshot, c *flagcore.Context) (flagcore.Details[int64], error) {
		return s.IntDetails(flag, def, c)
	})
	return openfeature.IntResolutionDetail{Value: valueOr(e, def), ProviderResolutionDetail: resolution(e)}
}

// ObjectEvaluation evaluates a JSON (object or array) flag; the value is decoded with
// encoding/json (objects as map[string]any, numbers as float64). The default is returned
// as given when it is served.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, flat openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	e := evaluate(p, flag, json.RawMessage(nil), flat, func(s *flagcore.Snapshot, c *flagcore.Context) (flagcore.Details[json.RawMessage], error) {
		return s.JSONDetails(flag, nil, c)
	})
	out := openfeature.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: resolution(e)}
	if e.err == nil && e.details.Variant != "" {
		var value any
		if err := json.Unmarshal(e.details.Value, &value); err != nil {
			out.ProviderResolutionDetail = openfeature.ProviderResolutionDetail{
				ResolutionError: openfeature.NewParseErrorResolutionError(err.Error()),
				Reason:          openfeature.ErrorReason,
			}
			return out
		}
		out.Value = value
	}
	return out
}

func valueOr[T any](e evaluation[T], def T) T {
	if e.err != nil {
		return def
	}
	return e.details.Value
}
