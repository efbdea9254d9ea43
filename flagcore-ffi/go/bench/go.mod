module github.com/flagcore/flagcore/flagcore-ffi/go/bench

go 1.26.0

replace github.com/flagcore/flagcore/flagcore-ffi/go => ../

require (
	github.com/flagcore/flagcore/flagcore-ffi/go v0.0.0-00010101000000-000000000000
	github.com/launchdarkly/go-sdk-common/v3 v3.4.0
	github.com/launchdarkly/go-server-sdk-evaluation/v3 v3.0.1
)

require (
	github.com/josharian/intern v1.0.0 // indirect
	github.com/launchdarkly/go-jsonstream/v3 v3.1.0 // indirect
	github.com/launchdarkly/go-semver v1.0.3 // indirect
	github.com/mailru/easyjson v0.7.7 // indirect
)
