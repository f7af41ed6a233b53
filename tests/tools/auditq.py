#!/usr/bin/python3
"""Query hopd's JSON-lines audit log for the integration tests.

  auditq.py FILE [--count | --field NAME | --json] FILTER...

A FILTER is KEY=VALUE (the field equals VALUE, compared as text; numbers
and booleans in their JSON spelling), KEY~TEXT (the field contains TEXT) or
KEY? (the field exists).  Every line of FILE must be one JSON object: a
line that is not fails the query (exit 2), since a broken record is a bug.
Prints the matching records (--json, the default), their number (--count)
or the value of one field of the last match (--field; exit 1 if none).
"""

import json
import sys


def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return json.dumps(v, separators=(",", ":"))


def matches(rec, flt):
    if flt.endswith("?"):
        return flt[:-1] in rec
    # The first operator splits: "reason~from=" is reason containing "from=".
    ops = [i for i in (flt.find("="), flt.find("~")) if i > 0]
    if not ops:
        raise SystemExit("auditq: bad filter %r" % flt)
    i = min(ops)
    key, op, want = flt[:i], flt[i], flt[i + 1:]
    if key not in rec:
        return False
    have = text(rec[key])
    return have == want if op == "=" else want in have


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    path = argv[1]
    mode, field, filters = "json", None, []
    args = argv[2:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--count":
            mode = "count"
        elif a == "--json":
            mode = "json"
        elif a == "--field":
            mode = "field"
            i += 1
            field = args[i]
        else:
            filters.append(a)
        i += 1
    recs = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        lines = []
    # The last line may be being written: only complete lines count.
    for n, line in enumerate(lines[:-1], 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            print("auditq: %s:%d: not JSON (%s): %r" % (path, n, e, line),
                  file=sys.stderr)
            return 2
        if not isinstance(rec, dict):
            print("auditq: %s:%d: not an object" % (path, n),
                  file=sys.stderr)
            return 2
        if all(matches(rec, flt) for flt in filters):
            recs.append(rec)
    if mode == "count":
        print(len(recs))
    elif mode == "field":
        if not recs or field not in recs[-1]:
            return 1
        print(text(recs[-1][field]))
    else:
        for r in recs:
            print(json.dumps(r, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
