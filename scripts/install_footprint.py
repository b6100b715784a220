# Simulates `apt-get install --no-install-recommends PKGS` on a fresh debian:12 image: apt's own
# resolver against a dpkg status holding only what such an image holds (this machine's Priority:
# required packages, apt, and what they depend on). Prints the count and summed Installed-Size.
import subprocess, sys, re, tempfile
pkgs = sys.argv[1:]
blocks = [b for b in open("/var/lib/dpkg/status").read().split("\n\n") if b.strip()]
by = {}
provides = {}
for b in blocks:
    name = re.search(r"^Package: (\S+)", b, re.M).group(1)
    by[name] = b
    m = re.search(r"^Provides: (.*)$", b, re.M)
    if m:
        for p in m.group(1).split(","):
            provides.setdefault(p.strip().split()[0], name)
def deps(b):
    out = []
    for field in ("Depends", "Pre-Depends"):
        m = re.search(rf"^{field}: (.*)$", b, re.M)
        if not m: continue
        for alt in m.group(1).split(","):
            for a in alt.split("|"):
                n = a.strip().split()[0].split(":")[0]
                n = n if n in by else provides.get(n)
                if n: out.append(n); break
    return out
import os
keep = {n for n, b in by.items() if re.search(r"^Priority: required$", b, re.M)} | {"apt"} | set(os.environ.get("BASE", "").split())
todo = list(keep)
while todo:
    n = todo.pop()
    for d in deps(by.get(n, "")):
        if d not in keep: keep.add(d); todo.append(d)
d = tempfile.mkdtemp()
open(f"{d}/status", "w").write("\n\n".join(by[n] for n in sorted(keep) if n in by) + "\n\n")
sim = subprocess.run(["apt-get", "-s", "-o", f"Dir::State::status={d}/status", "install", "--no-install-recommends", *pkgs],
                     capture_output=True, text=True)
inst = re.findall(r"^Inst (\S+)", sim.stdout, re.M)
if not inst: print(sim.stdout[-1500:], sim.stderr[-1500:]); sys.exit(1)
show = subprocess.run(["apt-cache", "show", "--no-all-versions", *inst], capture_output=True, text=True).stdout
total = sum(int(x) for x in re.findall(r"^Installed-Size: (\d+)", show, re.M))
import os
if os.environ.get("LIST"):
    for blk in show.split("\n\n"):
        m=re.search(r"^Package: (\S+)",blk,re.M); s=re.search(r"^Installed-Size: (\d+)",blk,re.M)
        if m and s: print(int(s.group(1))//1024, m.group(1))
print(f"{len(inst)} packages, {total/1024:.0f} MB installed (base image: {len(keep)} packages)")
