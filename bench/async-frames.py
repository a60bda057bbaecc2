#!/usr/bin/env python3
"""The async frame (context) size of every Swift async function in an ELF binary, largest first.
A task allocates its async functions' frames as they are called and holds them while it waits,
so a waiting item's memory is the sum of the frames on its tasks' stacks (BENCHMARKS.md,
"Provider batches: memory per waiting item"). Each `...Tu` symbol is an AsyncFunctionPointer
{int32 relative pointer to the function, uint32 context size}.
    bench/async-frames.py BINARY [REGEX over mangled or demangled names] [LIMIT]
    bench/async-frames.py .build/release/pipe 'PipelineRunner|ModelStageExecutor|BatchRunner' 30"""
import subprocess, sys, struct, re
binary = sys.argv[1]
pattern = re.compile(sys.argv[2]) if len(sys.argv) > 2 else None
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 60
sections = []
for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if m:
        name, addr, off, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)
        if addr: sections.append((addr, off, size, name))
data = open(binary, "rb").read()
def read(addr):
    for a, o, s, n in sections:
        if a <= addr < a + s and n != ".bss":
            return data[o + addr - a:o + addr - a + 8]
syms = []
for line in subprocess.run(["nm", binary], capture_output=True, text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[2].endswith("Tu"):
        raw = read(int(parts[0], 16))
        if raw and len(raw) == 8:
            syms.append((struct.unpack("<iI", raw)[1], parts[2]))
names = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(s for _, s in syms), capture_output=True, text=True).stdout.splitlines()
rows = sorted(((s, n, m) for (s, m), n in zip(syms, names)), reverse=True)
shown = 0
for size, name, mangled in rows:
    if pattern and not (pattern.search(name) or pattern.search(mangled)): continue
    print(f"{size:7d}  {name[:230]}")
    shown += 1
    if shown >= limit: break
