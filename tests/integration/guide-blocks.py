#!/usr/bin/python3
# guide-blocks.py GUIDE SCRATCH MAP...: prints a bash script that runs the
# admin guide's shell blocks in order (docs/admin-guide.md says how blocks
# are marked). Each MAP is FROM=>TO, applied (in order) to every block run
# and every file written, e.g. /etc/vdi=>/tmp/x/etc/vdi (FROM "re:PATTERN": a regular expression).
#   ```sh                         run
#   <!-- guide-test: skip (why) --> + any block   not run (illustrative)
#   <!-- guide-test: packages -->  + ```sh        not run here (test_packages.sh)
#   <!-- guide-test: file PATH --> + ```          appended to PATH
# Any other fenced block (no language, no mark) is an example that is not
# a shell command and is left alone; a ```sh block may not be unmarked
# and skipped silently.
import re
import sys

guide, scratch, maps = sys.argv[1], sys.argv[2], sys.argv[3:]
pairs = [m.split("=>", 1) for m in maps]


plain = dict((a, b) for a, b in pairs if not a.startswith("re:"))
plain_re = re.compile("|".join(re.escape(a) for a in sorted(plain, key=len, reverse=True)))


def rewrite(text):
    # The plain maps in one pass (a replacement is never rewritten again),
    # then the regular expressions.
    if plain:
        text = plain_re.sub(lambda m: plain[m.group(0)], text)
    for a, b in pairs:
        if a.startswith("re:"):
            text = re.sub(a[3:], b, text)
    return text


lines = open(guide, encoding="utf-8").read().split("\n")
out = []
mark = None
i = 0
n = 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"^<!-- guide-test: (\w+)\s*(.*?)\s*-->$", line)
    if m:
        mark = (m.group(1), m.group(2))
        i += 1
        continue
    f = re.match(r"^```(\w*)$", line)
    if not f:
        if line.strip():
            mark = None
        i += 1
        continue
    lang = f.group(1)
    start = i + 1
    j = start
    while lines[j] != "```":
        j += 1
    body = "\n".join(lines[start:j])
    i = j + 1
    kind, arg = mark if mark else (None, "")
    mark = None
    if kind in ("skip", "packages"):
        out.append("echo '== guide line %d: not run (%s)'" % (start, kind))
        continue
    if kind == "file":
        path = rewrite(arg)
        n += 1
        out.append("echo '== guide line %d: appended to %s'" % (start, path))
        out.append("mkdir -p \"$(dirname '%s')\"" % path)
        out.append("cat >>'%s' <<'GUIDE_EOF_%d'\n%s\nGUIDE_EOF_%d" % (path, n, rewrite(body), n))
        continue
    if kind is not None:
        sys.exit("guide line %d: unknown mark %r" % (start, kind))
    if lang != "sh":
        continue
    out.append("echo '== guide line %d: run'" % start)
    out.append("GUIDE_LINE=%d" % start)
    out.append(rewrite(body))
print("\n".join(out))
