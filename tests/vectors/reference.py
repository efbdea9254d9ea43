"""Reference evaluator for flagcore (docs/format.md §2-§4).

A small, deliberately plain pure-Python implementation, written independently of the
Rust engine. It produces the `expected` part of the shared test vectors
(tests/vectors/*.json, see generate.py). It favours readability over speed.

It checks the document only as far as the vectors need (see `load`): enough that a
snapshot written by generate.py cannot silently be invalid, not the full error reporting
of docs/format.md §2.

Public API:
    snap = load(json_text)                       # or None for "no snapshot loaded"
    details = evaluate(snap, kills, flag, type_, default, context)
    murmur3_x86_32(data, seed=0)                 # flagd bucketing's hash (§2.4.2)

`context` is the vector format's context: {"key": "alice", "attributes": {...}}, "key"
optional. `details` is the vector format's `expected` object.
"""

import json
import re
import time
from decimal import Decimal
from fractions import Fraction

import xxhash

MISSING = object()  # an attribute the context does not have

# --------------------------------------------------------------------------------------
# JSON values and their types
# --------------------------------------------------------------------------------------


def is_bool(v):
    return isinstance(v, bool)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_float(v):
    return isinstance(v, float)


def is_number(v):
    return is_int(v) or is_float(v)


def is_string(v):
    return isinstance(v, str)


def to_float(d):
    """A number read from the snapshot text as a Decimal becomes the nearest f64, as a
    JSON parser in any other language would read it."""
    return float(d) if isinstance(d, Decimal) else d


def plain_json(v):
    """Decimals (from parse_float=Decimal) back to floats, recursively."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, list):
        return [plain_json(x) for x in v]
    if isinstance(v, dict):
        return {k: plain_json(x) for k, x in v.items()}
    return v


def values_equal(a, b):
    """Type-strict equality: strings with strings, booleans with booleans, numbers with
    numbers (integers and floats numerically, 1 == 1.0)."""
    if is_string(a) and is_string(b):
        return a == b
    if is_bool(a) and is_bool(b):
        return a == b
    if is_number(a) and is_number(b):
        return a == b
    return False


# --------------------------------------------------------------------------------------
# SemVer 2.0.0 (strict)
# --------------------------------------------------------------------------------------

_IDENT_CHARS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")
_DIGITS = set("0123456789")


def _is_numeric_ident(s):
    return s != "" and set(s) <= _DIGITS


def _no_leading_zero(s):
    return s == "0" or not s.startswith("0")


def parse_semver(s):
    """Return (major, minor, patch, prerelease) or None when `s` is not a strict
    SemVer 2.0.0 version. prerelease is a tuple of identifiers (ints for numeric
    ones, strs otherwise); build metadata is checked and dropped."""
    if not is_string(s):
        return None
    core, plus, build = s.partition("+")
    if plus:
        idents = build.split(".")
        if any(i == "" or not set(i) <= _IDENT_CHARS for i in idents):
            return None
    core, dash, pre = core.partition("-")
    parts = core.split(".")
    if len(parts) != 3:
        return None
    nums = []
    for p in parts:
        if not _is_numeric_ident(p) or not _no_leading_zero(p):
            return None
        nums.append(int(p))
    prerelease = ()
    if dash:
        idents = pre.split(".")
        out = []
        for i in idents:
            if i == "" or not set(i) <= _IDENT_CHARS:
                return None
            if _is_numeric_ident(i):
                if not _no_leading_zero(i):
                    return None
                out.append(int(i))
            else:
                out.append(i)
        prerelease = tuple(out)
    return (nums[0], nums[1], nums[2], prerelease)


def _cmp(a, b):
    return (a > b) - (a < b)


def semver_compare(a, b):
    """-1, 0 or 1 by SemVer precedence (build metadata already dropped)."""
    c = _cmp(a[:3], b[:3])
    if c:
        return c
    pa, pb = a[3], b[3]
    if not pa and not pb:
        return 0
    if not pa:  # a release ranks above its pre-releases
        return 1
    if not pb:
        return -1
    for x, y in zip(pa, pb):
        if is_int(x) and is_int(y):
            c = _cmp(x, y)
        elif is_int(x):  # numeric identifiers rank below alphanumeric ones
            c = -1
        elif is_int(y):
            c = 1
        else:  # ASCII order
            c = _cmp(x, y)
        if c:
            return c
    return _cmp(len(pa), len(pb))


# --------------------------------------------------------------------------------------
# RFC 3339 timestamps -> integer nanoseconds since the Unix epoch
# --------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y, m):
    if m == 2:
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        return 29 if leap else 28
    return 30 if m in (4, 6, 9, 11) else 31


def parse_rfc3339(s):
    """Integer nanoseconds since the epoch, or None when `s` is not RFC 3339."""
    if not is_string(s):
        return None
    m = _RFC3339.fullmatch(s)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, offset = m.group(7), m.group(8)
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:  # no leap seconds
        return None
    off_seconds = 0
    if offset not in ("Z", "z"):
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            return None
        off_seconds = (oh * 3600 + om * 60) * (1 if offset[0] == "+" else -1)
    nanos = int((frac or "").ljust(9, "0")[:9])  # the vectors never use > 9 digits
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return (seconds - off_seconds) * 1_000_000_000 + nanos


def instant_ns(v):
    """An instant (exact, in nanoseconds: int or Fraction) from an RFC 3339 string or a
    number of Unix milliseconds; None for anything else."""
    if is_string(v):
        return parse_rfc3339(v)
    if is_int(v):
        return v * 1_000_000
    if is_float(v):
        return Fraction(v) * 1_000_000
    return None


# --------------------------------------------------------------------------------------
# Bucketing (docs/format.md §3)
# --------------------------------------------------------------------------------------


def salt_seed(salt):
    return xxhash.xxh3_64_intdigest(salt.encode("utf-8"))


def bucket_of(seed, bucket_key):
    h = xxhash.xxh3_64_intdigest(bucket_key.encode("utf-8"), seed=seed)
    return (h * 100_000) >> 64  # 0 ..= 99_999


# --------------------------------------------------------------------------------------
# flagd bucketing (docs/format.md §2.4.2): MurmurHash3 x86 32-bit, written from Austin
# Appleby's definition (MurmurHash3_x86_32 in SMHasher's MurmurHash3.cpp)
# --------------------------------------------------------------------------------------

_M32 = 0xFFFFFFFF


def _rotl32(x, r):
    return ((x << r) | (x >> (32 - r))) & _M32


def murmur3_x86_32(data, seed=0):
    """MurmurHash3_x86_32 of `data` (bytes) with `seed`, as an unsigned 32-bit integer."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _M32
    n = len(data)
    body = n - n % 4
    for i in range(0, body, 4):  # 4-byte blocks, little-endian
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & _M32
        k = _rotl32(k, 15)
        k = (k * c2) & _M32
        h ^= k
        h = _rotl32(h, 13)
        h = (h * 5 + 0xE6546B64) & _M32
    tail = data[body:]
    k = 0
    if len(tail) == 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & _M32
        k = _rotl32(k, 15)
        k = (k * c2) & _M32
        h ^= k
    h ^= n & _M32  # the length (mod 2^32)
    # fmix32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def flagd_point(salt, bucket_key, total):
    """The point (0 ..= total - 1) of a flagd-bucketed rollout: the hash of the salt's
    bytes followed by the key's, scaled as (hash × total) >> 32."""
    h = murmur3_x86_32(salt.encode("utf-8") + bucket_key.encode("utf-8"))
    return (h * total) >> 32


FLAGD_MAX_WEIGHT = 2147483647  # and the largest total


def to_units(pct, where):
    """A percentage with at most 3 decimals -> integer units of 0.001 %."""
    if is_bool(pct) or not isinstance(pct, (int, Decimal)):
        raise ValueError(f"{where}: not a number: {pct!r}")
    units = Decimal(pct) * 1000
    if units != units.to_integral_value():
        raise ValueError(f"{where}: more than 3 decimals: {pct}")
    return int(units)


# --------------------------------------------------------------------------------------
# Loading (parse + the checks the vectors need + a light "compile")
# --------------------------------------------------------------------------------------

VALUE_OPS = {"eq", "neq", "in", "not_in"}
STRING_OPS = {"starts_with", "ends_with", "contains", "matches"}
NUMBER_OPS = {"lt", "lte", "gt", "gte"}
SEMVER_OPS = {"semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte"}
TIME_OPS = {"before", "after"}
ALL_OPS = VALUE_OPS | STRING_OPS | NUMBER_OPS | SEMVER_OPS | TIME_OPS | {"exists"}


def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate object key {k!r}")
        obj[k] = v
    return obj


def _fields(obj, where, required, optional=()):
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = set(obj) - set(required) - set(optional)
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    missing = set(required) - set(obj)
    if missing:
        raise ValueError(f"{where}: missing fields {sorted(missing)}")


def flag_kind(variants, where):
    vals = list(variants.values())
    if not vals:
        raise ValueError(f"{where}: no variants")
    if all(is_bool(v) for v in vals):
        return "bool"
    if all(is_string(v) for v in vals):
        return "string"
    if all(is_int(v) for v in vals):
        return "int"
    if all(is_int(v) or isinstance(v, Decimal) for v in vals):
        return "float"
    if all(isinstance(v, (dict, list)) for v in vals):
        return "json"
    raise ValueError(f"{where}: mixed variant value types")


class Snapshot:
    def __init__(self, doc):
        _fields(doc, "", ["version", "flags"], ["segments"])
        if not is_int(doc["version"]) or doc["version"] < 0:
            raise ValueError("version: must be an integer >= 0")
        self.version = doc["version"]
        self.segments = {}
        self.flags = {}
        for name, seg in doc.get("segments", {}).items():
            self.segments[name] = self._segment(seg, f"segments.{name}")
        for name, flag in doc["flags"].items():
            self.flags[name] = self._flag(name, flag, f"flags.{name}")
        # references, now that every name is known
        for name, seg in self.segments.items():
            for rule in seg["rules"]:
                self._check_refs(rule["conditions"], f"segments.{name}")
        for name, flag in self.flags.items():
            for rule in flag["rules"]:
                self._check_refs(rule["conditions"], f"flags.{name}")
            for p in flag["prerequisites"]:
                if p["flag"] not in self.flags:
                    raise ValueError(f"flags.{name}: undefined prerequisite {p['flag']}")
                if p["variant"] not in self.flags[p["flag"]]["variants"]:
                    raise ValueError(f"flags.{name}: unknown variant {p['variant']}")
        self._no_cycles()

    # -- pieces --

    def _segment(self, seg, where):
        _fields(seg, where, [], ["include", "exclude", "rules", "description"])
        rules = []
        for i, rule in enumerate(seg.get("rules", [])):
            w = f"{where}.rules[{i}]"
            _fields(rule, w, ["conditions"], ["description"])
            rules.append({"conditions": self._conditions(rule["conditions"], w)})
        return {
            "include": set(seg.get("include", [])),
            "exclude": set(seg.get("exclude", [])),
            "rules": rules,
        }

    def _flag(self, name, flag, where):
        _fields(
            flag,
            where,
            ["variants", "enabled", "off_variant", "fallthrough"],
            ["salt", "prerequisites", "targets", "description", "metadata", "rules", "guardrails",
             "exposures"],
        )
        variants = flag["variants"]
        kind = flag_kind(variants, f"{where}.variants")

        def variant(v, w, nullable=False):
            if v is None and nullable:  # `null`: the caller's default (§2.4, §2.2)
                return None
            if not is_string(v) or v not in variants:
                raise ValueError(f"{w}: unknown variant {v!r}")
            return v

        if not is_bool(flag["enabled"]):
            raise ValueError(f"{where}.enabled: not a boolean")
        variant(flag["off_variant"], f"{where}.off_variant", nullable=True)
        prereqs = []
        for i, p in enumerate(flag.get("prerequisites", [])):
            _fields(p, f"{where}.prerequisites[{i}]", ["flag", "variant"])
            prereqs.append(p)
        targets = {}
        for i, t in enumerate(flag.get("targets", [])):
            w = f"{where}.targets[{i}]"
            _fields(t, w, ["variant", "keys"])
            variant(t["variant"], w)
            for k in t["keys"]:
                if k in targets:
                    raise ValueError(f"{w}: duplicate target key {k!r}")
                targets[k] = t["variant"]
        rules = []
        for i, g in enumerate(flag.get("guardrails", [])):
            # Guardrails never change what is served; only their variant names are checked.
            for v in g["watch"] + ([g["baseline"]] if "baseline" in g else []):
                variant(v, f"{where}.guardrails[{i}]")
        for i, rule in enumerate(flag.get("rules", [])):
            w = f"{where}.rules[{i}]"
            _fields(rule, w, ["conditions", "serve"], ["id", "description"])
            rules.append(
                {
                    "id": rule.get("id"),
                    "conditions": self._conditions(rule["conditions"], w),
                    "serve": self._serve(rule["serve"], f"{w}.serve", variant),
                }
            )
        salt = flag.get("salt", name)
        return {
            "kind": kind,
            "variants": {k: plain_json(v) for k, v in variants.items()},
            "enabled": flag["enabled"],
            "off_variant": flag["off_variant"],
            "seed": salt_seed(salt),
            "salt": salt,
            "prerequisites": prereqs,
            "targets": targets,
            "has_targets": bool(targets),
            "rules": rules,
            "fallthrough": self._serve(flag["fallthrough"], f"{where}.fallthrough", variant),
        }

    def _serve(self, serve, where, variant):
        if isinstance(serve, dict) and "variant" in serve:
            _fields(serve, where, ["variant"])
            return {"variant": variant(serve["variant"], where, nullable=True)}
        _fields(serve, where, ["rollout"])
        ro = serve["rollout"]
        _fields(ro, f"{where}.rollout", ["split"], ["by", "schedule", "bucketing"])
        bucketing = ro.get("bucketing", "flagcore")
        if bucketing == "flagd":
            if "schedule" in ro:
                raise ValueError(f"{where}.rollout.schedule: a flagd rollout has no schedule")
            split = self._flagd_split(ro["split"], f"{where}.rollout", variant)
            return {"rollout": {"by": ro.get("by", "key"), "flagd": True, "split": split,
                                "total": sum(w for _, w in split)}}
        if bucketing != "flagcore":
            raise ValueError(f"{where}.rollout.bucketing: {bucketing!r}")
        split = self._split(ro["split"], f"{where}.rollout", variant)
        schedule, previous = [], None
        for i, step in enumerate(ro.get("schedule", [])):
            w = f"{where}.rollout.schedule[{i}]"
            _fields(step, w, ["at", "split"])
            at = parse_rfc3339(step["at"])
            if at is None:
                raise ValueError(f"{w}.at: not an RFC 3339 timestamp")
            if previous is not None and at <= previous:
                raise ValueError(f"{w}.at: not after the previous step")
            previous = at
            schedule.append((at, self._split(step["split"], w, variant)))
        return {"rollout": {"by": ro.get("by", "key"), "flagd": False, "split": split,
                            "schedule": schedule}}

    def _flagd_split(self, items, where, variant):
        """Whole weights 0 ..= 2147483647 of any total 1 ..= 2147483647 (§2.4.2)."""
        split, total = [], 0
        if not isinstance(items, list) or not items:
            raise ValueError(f"{where}.split: empty")
        for i, item in enumerate(items):
            w = f"{where}.split[{i}]"
            _fields(item, w, ["variant", "weight"])
            weight = item["weight"]
            if not is_int(weight) or not 0 <= weight <= FLAGD_MAX_WEIGHT:
                raise ValueError(f"{w}.weight: not a whole number 0 ..= 2147483647: {weight!r}")
            split.append((variant(item["variant"], w), weight))
            total += weight
        if not 1 <= total <= FLAGD_MAX_WEIGHT:
            raise ValueError(f"{where}: flagd weights total {total}, not 1 ..= 2147483647")
        return split

    def _split(self, items, where, variant):
        split, total = [], 0
        for i, item in enumerate(items):
            w = f"{where}.split[{i}]"
            _fields(item, w, ["variant", "weight"])
            units = to_units(item["weight"], w)
            if units < 0:
                raise ValueError(f"{w}: negative weight")
            split.append((variant(item["variant"], w), units))
            total += units
        if total != 100_000:
            raise ValueError(f"{where}: weights sum to {Decimal(total) / 1000}, not 100")
        return split

    def _conditions(self, conds, where):
        return [self._condition(c, f"{where}.conditions[{i}]") for i, c in enumerate(conds)]

    def _condition(self, c, where):
        if isinstance(c, dict) and "in_segment" in c:
            _fields(c, where, ["in_segment"])
            return ("in_segment", c["in_segment"])
        if isinstance(c, dict) and "not_in_segment" in c:
            _fields(c, where, ["not_in_segment"])
            return ("not_in_segment", c["not_in_segment"])
        if isinstance(c, dict) and "in_bucket" in c:
            _fields(c, where, ["in_bucket"])
            b = c["in_bucket"]
            _fields(b, f"{where}.in_bucket", ["salt", "from", "to"], ["by"])
            lo = to_units(b["from"], f"{where}.in_bucket.from")
            hi = to_units(b["to"], f"{where}.in_bucket.to")
            if not 0 <= lo <= hi <= 100_000:
                raise ValueError(f"{where}.in_bucket: need 0 <= from <= to <= 100")
            return ("in_bucket", salt_seed(b["salt"]), b.get("by", "key"), lo, hi)
        op = c.get("op") if isinstance(c, dict) else None
        if op == "exists":
            _fields(c, where, ["attribute", "op"], ["values"])
            if c.get("values", []) != []:
                raise ValueError(f"{where}.values: exists takes no values")
            return ("clause", c["attribute"], op, [])
        _fields(c, where, ["attribute", "op", "values"])
        if op not in ALL_OPS:
            raise ValueError(f"{where}.op: unknown operator {op!r}")
        values = [to_float(v) for v in c["values"]]
        ok = {
            **dict.fromkeys(VALUE_OPS, lambda v: is_string(v) or is_bool(v) or is_number(v)),
            **dict.fromkeys(STRING_OPS, is_string),
            **dict.fromkeys(NUMBER_OPS, is_number),
            **dict.fromkeys(SEMVER_OPS, lambda v: parse_semver(v) is not None),
            **dict.fromkeys(TIME_OPS, lambda v: instant_ns(v) is not None),
        }[op]
        for v in values:
            if not ok(v):
                raise ValueError(f"{where}.values: {v!r} does not suit {op}")
        # pre-parse, as the engine's plan does
        if op in SEMVER_OPS:
            values = [parse_semver(v) for v in values]
        elif op in TIME_OPS:
            values = [instant_ns(v) for v in values]
        elif op == "matches":
            values = [re.compile(v) for v in values]
        return ("clause", c["attribute"], op, values)

    def _check_refs(self, conds, where):
        for c in conds:
            if c[0] in ("in_segment", "not_in_segment") and c[1] not in self.segments:
                raise ValueError(f"{where}: undefined segment {c[1]!r}")

    def _no_cycles(self):
        def walk(kind, name, path):
            if (kind, name) in path:
                raise ValueError(f"{kind} cycle through {name!r}")
            path = path | {(kind, name)}
            if kind == "segment":
                for rule in self.segments[name]["rules"]:
                    for c in rule["conditions"]:
                        if c[0] in ("in_segment", "not_in_segment"):
                            walk("segment", c[1], path)
            else:
                for p in self.flags[name]["prerequisites"]:
                    walk("flag", p["flag"], path)

        for s in self.segments:
            walk("segment", s, frozenset())
        for f in self.flags:
            walk("flag", f, frozenset())


def load(text):
    doc = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicate_keys)
    return Snapshot(doc)


# --------------------------------------------------------------------------------------
# Evaluation (docs/format.md §4)
# --------------------------------------------------------------------------------------


def attribute(ctx, name):
    """The attribute `name` of the context; `key` always means the targeting key."""
    if name == "key":
        return ctx.get("key", MISSING)
    return ctx.get("attributes", {}).get(name, MISSING)


def bucketing_key(ctx, by):
    """The string to hash for attribute `by`, or None when it is absent or neither a
    string nor an integer."""
    v = attribute(ctx, by)
    if is_string(v):
        return v
    if is_int(v):
        return str(v)
    return None


def clause_holds(attr, op, values):
    if attr is MISSING:  # only `exists` sees absence, and it is false then too
        return False
    if op == "exists":
        return True
    if op in ("eq", "in"):
        return any(values_equal(attr, v) for v in values)
    if op in ("neq", "not_in"):
        return not any(values_equal(attr, v) for v in values)
    if op in STRING_OPS:
        if not is_string(attr):
            return False
        if op == "starts_with":
            return any(attr.startswith(v) for v in values)
        if op == "ends_with":
            return any(attr.endswith(v) for v in values)
        if op == "contains":
            return any(v in attr for v in values)
        return any(rx.search(attr) for rx in values)
    if op in NUMBER_OPS:
        if not is_number(attr):
            return False
        test = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
                "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b}[op]
        return any(test(attr, v) for v in values)
    if op in SEMVER_OPS:
        a = parse_semver(attr)
        if a is None:
            return False
        test = {"semver_eq": lambda c: c == 0, "semver_lt": lambda c: c < 0,
                "semver_lte": lambda c: c <= 0, "semver_gt": lambda c: c > 0,
                "semver_gte": lambda c: c >= 0}[op]
        return any(test(semver_compare(a, v)) for v in values)
    if op in TIME_OPS:
        a = instant_ns(attr)
        if a is None:
            return False
        if op == "before":
            return any(a < v for v in values)
        return any(a > v for v in values)
    raise AssertionError(op)


class _Evaluator:
    def __init__(self, snap, kills, now_ns):
        self.snap = snap
        self.kills = set(kills)
        self.now_ns = now_ns

    def condition(self, c, ctx):
        kind = c[0]
        if kind == "in_segment":
            return self.in_segment(c[1], ctx)
        if kind == "not_in_segment":
            return not self.in_segment(c[1], ctx)
        if kind == "in_bucket":
            _, seed, by, lo, hi = c
            bk = bucketing_key(ctx, by)
            return bk is not None and lo <= bucket_of(seed, bk) < hi
        _, attr_name, op, values = c
        return clause_holds(attribute(ctx, attr_name), op, values)

    def all_hold(self, conds, ctx):
        return all(self.condition(c, ctx) for c in conds)

    def in_segment(self, name, ctx):
        seg = self.snap.segments[name]
        key = ctx.get("key")
        if key is not None and key in seg["exclude"]:
            return False
        if key is not None and key in seg["include"]:
            return True
        return any(self.all_hold(r["conditions"], ctx) for r in seg["rules"])

    def rollout(self, ro, flag, ctx):
        """(variant, bucket, step) or None when the bucketing attribute is unusable.
        `step` is the index of the schedule step in force, None before the first. A flagd
        rollout (§2.4.2) reports neither a bucket nor a step."""
        bk = bucketing_key(ctx, ro["by"])
        if bk is None:
            return None
        if ro["flagd"]:
            point = flagd_point(flag["salt"], bk, ro["total"])
            start = 0
            for variant, weight in ro["split"]:
                if start <= point < start + weight:
                    return variant, None, None
                start += weight
            raise AssertionError("weights cover 0..total")
        b = bucket_of(flag["seed"], bk)
        split, step = ro["split"], None
        for i, (at, step_split) in enumerate(ro["schedule"]):
            if at <= self.now_ns:
                split, step = step_split, i
        start = 0
        for variant, units in split:
            if start <= b < start + units:
                return variant, b, step
            start += units
        raise AssertionError("weights cover 0..100000")

    def flag(self, name, ctx):
        """Evaluate a known flag in full: a details dict, without the caller's default
        (value None on error)."""
        flag = self.snap.flags[name]

        def served(variant, reason, rule_index=None, rule_id=None, target=False, bucket=None,
                   step=None):
            if variant is None:
                # a `null` serve or off_variant: the caller's default (value None here,
                # filled in by `evaluate`), without an error and without the details of
                # what decided (§4.7)
                return {"value": None, "variant": None, "reason": reason, "error_code": None,
                        "rule_index": None, "rule_id": None, "target": False, "bucket": None,
                        "step": None}
            return {"value": flag["variants"][variant], "variant": variant, "reason": reason,
                    "error_code": None, "rule_index": rule_index, "rule_id": rule_id,
                    "target": target, "bucket": bucket, "step": step}

        if name in self.kills or not flag["enabled"]:
            return served(flag["off_variant"], "DISABLED")
        for p in flag["prerequisites"]:
            r = self.flag(p["flag"], ctx)
            if r["error_code"] is not None or r["variant"] != p["variant"]:  # also null
                return served(flag["off_variant"], "PREREQUISITE_FAILED")
        key = ctx.get("key")
        if key is not None and key in flag["targets"]:
            return served(flag["targets"][key], "TARGETING_MATCH", target=True)
        for i, rule in enumerate(flag.get("rules", [])):
            if not self.all_hold(rule["conditions"], ctx):
                continue
            serve = rule["serve"]
            if "variant" in serve:
                if serve["variant"] is None:
                    return served(None, "DEFAULT")  # §2.4: the caller's default, DEFAULT
                return served(serve["variant"], "TARGETING_MATCH", i, rule["id"])
            hit = self.rollout(serve["rollout"], flag, ctx)
            if hit is None:
                continue  # bucketing attribute unusable: the rule does not match
            return served(hit[0], "SPLIT", i, rule["id"], bucket=hit[1], step=hit[2])
        serve = flag["fallthrough"]
        if "variant" in serve:
            if serve["variant"] is None:
                return served(None, "DEFAULT")  # never STATIC: no variant is fixed
            static = not flag["rules"] and not flag["has_targets"]
            return served(serve["variant"], "STATIC" if static else "DEFAULT")
        hit = self.rollout(serve["rollout"], flag, ctx)
        if hit is None:
            return error(None, "TARGETING_KEY_MISSING")
        return served(hit[0], "SPLIT", bucket=hit[1], step=hit[2])


def error(default, code):
    return {"value": default, "variant": None, "reason": "ERROR", "error_code": code,
            "rule_index": None, "rule_id": None, "target": False, "bucket": None, "step": None}


GETTER_ACCEPTS = {
    "bool": {"bool"},
    "string": {"string"},
    "int": {"int"},
    "float": {"int", "float"},
    "json": {"json"},
}


def evaluate(snap, kills, flag_name, type_, default, context, now_ns=None):
    """Top-level typed evaluation (docs/format.md §4 steps 1-8), with schedules read as of `now_ns`
    (Unix nanoseconds; default: the current time)."""
    if now_ns is None:
        now_ns = time.time_ns()
    if snap is None:
        return error(default, "PROVIDER_NOT_READY")
    flag = snap.flags.get(flag_name)
    if flag is None:
        return error(default, "FLAG_NOT_FOUND")
    if flag["kind"] not in GETTER_ACCEPTS[type_]:
        return error(default, "TYPE_MISMATCH")
    r = _Evaluator(snap, kills, now_ns).flag(flag_name, context)
    if r["error_code"] is not None:
        return error(default, r["error_code"])
    if r["variant"] is None:  # a null serve or off_variant: the default, no error
        r["value"] = default
        return r
    if type_ == "float":
        r["value"] = float(r["value"])
    return r


def bucket_for(salt, bucket_key):
    """Convenience for the generator and for hand checks."""
    return bucket_of(salt_seed(salt), bucket_key)
