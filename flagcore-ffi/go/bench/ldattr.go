package bench

import "github.com/launchdarkly/go-sdk-common/v3/ldattr"

func ldattrRef(name string) ldattr.Ref { return ldattr.NewLiteralRef(name) }
