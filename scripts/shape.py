#!/usr/bin/env python3
"""The shape every Rust source file keeps (issue 26): at most 400 lines
before its tests, and no function longer than 60 lines. Prints what is
over and exits 1 if anything is; run by scripts/test.sh.

    scripts/shape.py [DIR...]   (default: src rustc-wrapper/src benches/report/src)
"""
import os
import re
import sys

MAX_FILE_LINES = 400
MAX_FN_LINES = 60
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+|async\s+|unsafe\s+)*fn\s+(\w+)")


def code_lines(path):
    """The file's lines before its `#[cfg(test)]` module."""
    lines = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#[cfg(test)]"):
            break
        lines.append(line)
    return lines


def strip(line):
    """A line without its string literals and `//` comment, for brace counting."""
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split("//", 1)[0]


def functions(lines):
    """(name, first line, length) of each function with a body."""
    found = []
    for start, line in enumerate(lines):
        match = FN.match(line)
        if not match:
            continue
        depth, opened = 0, False
        for end in range(start, len(lines)):
            text = strip(lines[end])
            if not opened and ";" in text and "{" not in text:
                break  # a declaration without a body (trait method)
            depth += text.count("{") - text.count("}")
            opened = opened or "{" in text
            if opened and depth <= 0:
                found.append((match.group(4), start + 1, end - start + 1))
                break
    return found


def main(dirs):
    over = []
    for top in dirs:
        for root, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith(".rs"):
                    continue
                path = os.path.join(root, name)
                lines = code_lines(path)
                if len(lines) > MAX_FILE_LINES:
                    over.append(f"{path}: {len(lines)} lines before its tests (at most {MAX_FILE_LINES})")
                for fn, first, length in functions(lines):
                    if length > MAX_FN_LINES:
                        over.append(f"{path}:{first}: fn {fn} is {length} lines (at most {MAX_FN_LINES})")
    for line in over:
        print(line)
    print(f"shape: {len(over)} over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src", "rustc-wrapper/src", "benches/report/src"]))
