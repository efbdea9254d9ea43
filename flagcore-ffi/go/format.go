package flagcore

/*
#include "flagcore.h"

#cgo noescape fc_store_new_from_bytes_as
#cgo nocallback fc_store_new_from_bytes_as
#cgo noescape fc_store_new_from_file_as
#cgo nocallback fc_store_new_from_file_as
#cgo nocallback fc_store_new_merged
#cgo nocallback fc_store_new_from_files
// fc_store_update_as, fc_store_update_file_as, fc_store_update_merged and
// fc_store_update_files call back into Go when the store has subscribers (change.go):
// neither nocallback nor noescape (see the design note in ffi.go).
*/
import "C"

import (
	"runtime"
	"strconv"
	"unsafe"
)

// Format is the format a document is read in: [FormatDetect] tells it from the content,
// as [Store.Update] does; [FormatNative] and [FormatFlagd] read it as that format only.
type Format uint32

// The formats of the C ABI's fc_format.
const (
	// FormatDetect reads a document as flagd when it says so (a flagd $schema,
	// $evaluators) or has no version and flags with a state or a defaultVariant, and as
	// native otherwise. It is the zero Format.
	FormatDetect Format = C.FC_FORMAT_DETECT
	// FormatNative is flagcore's own snapshot format (docs/format.md §2), whose version
	// must be newer than the serving one.
	FormatNative Format = C.FC_FORMAT_NATIVE
	// FormatFlagd is OpenFeature flagd flag definitions (docs/format.md §9). They carry no
	// version: each one loaded takes the next version after the serving one.
	FormatFlagd Format = C.FC_FORMAT_FLAGD
)

// String returns the format's name, as the Rust core, Python's format= and the
// command-line tool spell it: "detect", "native" or "flagd".
func (f Format) String() string {
	switch f {
	case FormatDetect:
		return "detect"
	case FormatNative:
		return "native"
	case FormatFlagd:
		return "flagd"
	}
	return "Format(" + strconv.FormatUint(uint64(f), 10) + ")"
}

// NewStoreFromBytesAs is [NewStoreFromBytes] with the document read in format. A format
// that is none of the constants is an [*Error] with code [CodeInvalidArgument].
func NewStoreFromBytesAs(doc []byte, format Format) (*Store, error) {
	var ptr *C.fc_store
	err := withDetail(func() C.fc_result {
		p, n := cbytes(doc)
		return C.fc_store_new_from_bytes_as(p, n, C.uint32_t(format), &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// NewStoreFromFileAs is [NewStoreFromFile] with the document read in format.
func NewStoreFromFileAs(path string, format Format) (*Store, error) {
	var ptr *C.fc_store
	err := withDetail(func() C.fc_result {
		p, n := cstr(path)
		return C.fc_store_new_from_file_as(p, n, C.uint32_t(format), &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// NewStoreMerged returns a store serving the flagd documents docs merged in order, as
// flagd merges its sources: a later document's definition of a flag replaces an earlier
// one, $evaluators are shared, and each flag keeps its own document's top-level metadata.
// No document is an [*Error] with code [CodeInvalidArgument]; a document that is not a
// flagd document, [ErrInvalidSnapshot].
func NewStoreMerged(docs ...[]byte) (*Store, error) {
	var ptr *C.fc_store
	var pinner runtime.Pinner
	defer pinner.Unpin()
	array := lendDocuments(&pinner, docs)
	err := withDetail(func() C.fc_result {
		return C.fc_store_new_merged(unsafe.SliceData(array), C.size_t(len(array)), &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// NewStoreFromFiles returns a store serving the flagd files at paths merged in order, as
// [NewStoreMerged] merges documents. Every file is read before any is loaded; one that
// cannot be read is [ErrIO], naming it. No path is an [*Error] with code
// [CodeInvalidArgument].
func NewStoreFromFiles(paths ...string) (*Store, error) {
	var ptr *C.fc_store
	var pinner runtime.Pinner
	defer pinner.Unpin()
	array := lendPaths(&pinner, paths)
	err := withDetail(func() C.fc_result {
		return C.fc_store_new_from_files(unsafe.SliceData(array), C.size_t(len(array)), &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// UpdateAs is [Store.Update] with the document read in format: a flagd document stated
// as [FormatNative], or a document with no flags object stated as [FormatFlagd], is
// [ErrInvalidSnapshot], and the serving snapshot stays. A format that is none of the
// constants is an [*Error] with code [CodeInvalidArgument].
func (s *Store) UpdateAs(doc []byte, format Format) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		p, n := cbytes(doc)
		return C.fc_store_update_as(s.ptr, p, n, C.uint32_t(format), &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// UpdateFileAs is [Store.UpdateAs] with the document read from the file at path; it may
// also fail with [ErrIO].
func (s *Store) UpdateFileAs(path string, format Format) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		p, n := cstr(path)
		return C.fc_store_update_file_as(s.ptr, p, n, C.uint32_t(format), &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// UpdateMerged validates the flagd documents docs merged as [NewStoreMerged] merges them
// and swaps the result in; it returns the new version, the next after the serving one. On
// error the serving snapshot stays.
func (s *Store) UpdateMerged(docs ...[]byte) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var pinner runtime.Pinner
	defer pinner.Unpin()
	array := lendDocuments(&pinner, docs)
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		return C.fc_store_update_merged(s.ptr, unsafe.SliceData(array), C.size_t(len(array)), &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// UpdateFiles reads the flagd files at paths and swaps them in merged, as
// [NewStoreFromFiles] does; it returns the new version. On error, a file that cannot be
// read included, the serving snapshot stays.
func (s *Store) UpdateFiles(paths ...string) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var pinner runtime.Pinner
	defer pinner.Unpin()
	array := lendPaths(&pinner, paths)
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		return C.fc_store_update_files(s.ptr, unsafe.SliceData(array), C.size_t(len(array)), &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// lendDocuments describes docs to C as an fc_str array pointing at their bytes, which
// stay where they are (a document may be megabytes): cgo lets Go memory handed to C hold
// pointers only to pinned memory, so each document is pinned until the caller's Unpin,
// after the call.
func lendDocuments(pinner *runtime.Pinner, docs [][]byte) []C.fc_str {
	array := make([]C.fc_str, len(docs))
	for i, doc := range docs {
		p := unsafe.SliceData(doc)
		if p != nil {
			pinner.Pin(p)
		}
		array[i] = C.fc_str{ptr: (*C.char)(unsafe.Pointer(p)), len: C.size_t(len(doc))}
	}
	return array
}

// lendPaths is lendDocuments for paths.
func lendPaths(pinner *runtime.Pinner, paths []string) []C.fc_str {
	array := make([]C.fc_str, len(paths))
	for i, path := range paths {
		p := unsafe.StringData(path)
		if p != nil {
			pinner.Pin(p)
		}
		array[i] = C.fc_str{ptr: (*C.char)(unsafe.Pointer(p)), len: C.size_t(len(path))}
	}
	return array
}

// FlagdFractional says how flagd's fractional operation buckets users in the flagd
// documents a store loads.
type FlagdFractional uint32

// The generations of flagd's fractional bucketing (docs/format.md §9.4.2, §9.4.3).
const (
	// FlagdFractionalV2 is flagd's current bucketing, the default: MurmurHash3 of the
	// key's UTF-8 bytes.
	FlagdFractionalV2 FlagdFractional = C.FC_FLAGD_FRACTIONAL_V2
	// FlagdFractionalV3 is flagd's newer bucketing, by the key's canonical CBOR encoding,
	// as flagd's Python core 2.x buckets.
	FlagdFractionalV3 FlagdFractional = C.FC_FLAGD_FRACTIONAL_V3
)

// SetFlagdFractional sets how fractional buckets in the flagd documents the store loads
// from now on; what it serves now is unchanged. A value that is none of the constants is
// an [*Error] with code [CodeInvalidArgument].
func (s *Store) SetFlagdFractional(version FlagdFractional) error {
	if s.ptr == nil {
		return ErrClosed
	}
	err := withDetail(func() C.fc_result {
		return C.fc_store_set_flagd_fractional(s.ptr, C.uint32_t(version))
	})
	runtime.KeepAlive(s)
	return err
}
