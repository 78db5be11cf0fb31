#!/usr/bin/env python3
"""make bench: path lengths of Tide's guest memory and hypercall paths.

Every run is QEMU TCG with -icount shift=0,sleep=off, so runs are
deterministic and RDTSC counts instructions: the "ticks" below are
instructions of the emulated CPU (guest and Tide together). The baseline is
the same memhog on bare QEMU, measured in the same `make bench` run.

Prints a table and writes it to build/bench/bench.txt (and bench.csv).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
QEMU = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "EPYC", "-m", "512",
        "-display", "none", "-monitor", "none", "-no-reboot", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-icount", "shift=0,sleep=off"]
MIB = 64
PASSES = 2


def run(name, kernel, append, initrd=None, nvme=False):
    cmd = QEMU + ["-kernel", str(kernel), "-append", append]
    if initrd:
        cmd += ["-initrd", initrd]
    if nvme:
        img = OUT / "swap-nvme.img"
        with open(img, "wb") as f:
            f.truncate(128 << 20)
        cmd += ["-drive", f"file={img},if=none,id=sw,format=raw",
                "-device", "nvme,serial=tideswap,drive=sw"]
    r = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=600)
    log = r.stdout.replace("\r", "")
    (OUT / f"{name}.log").write_text(log)
    if r.returncode != 1:  # isa-debug-exit with 0: success
        sys.exit(f"bench: run '{name}' failed (QEMU status {r.returncode}); "
                 f"see {OUT / (name + '.log')}")
    return log


def passes(log):
    """Ticks of each memhog pass, in order."""
    return [int(m) for m in re.findall(r"memhog: touched \d+ MiB in (\d+) cycles", log)]


def field(log, key):
    m = re.search(rf"\b{key}=(\d+)", log)
    if not m:
        sys.exit(f"bench: no {key}= in the log")
    return int(m.group(1))


GUESTS = 4
GUEST_MIB = 64
SWITCHES = 4000


def asguest_figures(log):
    phases = re.search(r"asguest: phases took (\d+) ticks", log)
    loop = re.search(r"switch loop: \d+ switches among \d+ spaces, (\d+) ticks per switch", log)
    if not phases or (SWITCHES and not loop):
        sys.exit("bench: asguest printed no timings")
    return int(phases.group(1)), int(loop.group(1)) if loop else 0


def shadow_paging():
    """Shadow page tables vs NPT vs bare, on the address-space guest and memhog."""
    rows = []
    for spaces in (4, 8):
        args = f"switches={SWITCHES} spaces={spaces}"
        bare = asguest_figures(run(f"asguest-bare-{spaces}", "build/guest/asguest.elf", args))
        npt = asguest_figures(run(f"asguest-npt-{spaces}", "build/tide.elf32",
                                  "poweroff=qemu paging=tdp",
                                  f"build/guest/asguest.elf mem=32M -- {args}"))
        shadow_log = run(f"asguest-shadow-{spaces}", "build/tide.elf32",
                         "poweroff=qemu paging=shadow shadow_roots=4",
                         f"build/guest/asguest.elf mem=32M -- {args}")
        shadow = asguest_figures(shadow_log)
        # the same run without the loop: the difference is the loop's
        base_log = run(f"asguest-shadow-noloop-{spaces}", "build/tide.elf32",
                       "poweroff=qemu paging=shadow shadow_roots=4",
                       "build/guest/asguest.elf mem=32M")
        d = {k: field(shadow_log, k) - field(base_log, k)
             for k in ("exits", "cr3_loads", "root_hits")}
        if spaces == 4:
            rows.append(("asguest phases, ticks: shadow / NPT / bare",
                         f"{shadow[0] / bare[0]:.1f}x/{npt[0] / bare[0]:.1f}x",
                         f"{shadow[0]} / {npt[0]} / {bare[0]} ticks"))
            rows.append(("asguest phases: shadow root-cache hit rate (4 cached roots)",
                         f"{field(base_log, 'root_hits') / field(base_log, 'cr3_loads'):.2f}",
                         f"{field(base_log, 'root_hits')} hits in "
                         f"{field(base_log, 'cr3_loads')} CR3 loads, 32 address spaces"))
        rows.append((f"CR3 switch among {spaces} spaces, ticks: shadow / NPT / bare",
                     f"{shadow[1]}/{npt[1]}/{bare[1]}",
                     f"{SWITCHES} switches, each with one read"))
        rows.append((f"exits per CR3 switch among {spaces} spaces (shadow)",
                     f"{d['exits'] / SWITCHES:.2f}",
                     f"root-cache hit rate {d['root_hits'] / max(d['cr3_loads'], 1):.2f} "
                     f"({d['root_hits']} of {d['cr3_loads']})"))
    # memhog: guest paging off, so the shadow is the identity map
    memhog = f"build/guest/memhog.elf mem=256M -- mib={MIB} passes={PASSES}"
    bare = passes(run("memhog-bare", "build/guest/memhog.elf", f"mib={MIB} passes={PASSES}"))
    for paging in ("tdp", "shadow"):
        log = run(f"memhog-{paging}", "build/tide.elf32",
                  f"poweroff=qemu stage2_huge=off paging={paging}", memhog)
        p = passes(log)
        rows.append((f"memhog time / bare, 4 KiB pages, paging={paging}",
                     f"{sum(p) / sum(bare):.3f}",
                     f"{sum(p)} vs {sum(bare)} ticks; first pass {p[0]}, "
                     f"{field(log, 'exits')} exits"))
    return rows


def hint_experiment():
    """Duyck's free page reporting experiment, scaled: four guests of
    GUEST_MIB MiB under a budget of 2.5x that, each in turn allocating ~90%
    of its RAM, touching it, freeing it and going idle while the next one
    runs; with free-page hints and without."""
    rows = []
    budget = GUEST_MIB * 5 // 2
    mib = GUEST_MIB * 9 // 10 - 4  # ~90%, less what the guest's image needs
    table = {}
    for hints in ("on", "off"):
        mods = ",".join(
            f"build/guest/hinthog.elf name=g{i} mem={GUEST_MIB}M -- mib={mib} "
            f"hints={1 if hints == 'on' else 0} idle=1" for i in range(GUESTS))
        # a long slice: each guest runs its phase to the end, then idles
        log = run(f"hints-{hints}", "build/tide.elf32",
                  f"poweroff=qemu guest_mem={budget}M swap=ram:192M slice=10000 sample_ms=20",
                  mods)
        for i in range(GUESTS):
            m = re.search(rf"\[g{i}\] hinthog: round 1: alloc\+touch \d+ MiB in (\d+) cycles", log)
            mem = re.search(rf"tide: guest g{i} memory: (.*)", log)
            cnt = re.search(rf"tide: guest g{i} counters: (.*)", log)
            if not (m and mem and cnt):
                sys.exit(f"bench: hint experiment ({hints}) guest g{i} did not finish; "
                         f"see {OUT / ('hints-' + hints + '.log')}")
            f = dict(kv.split("=") for kv in (mem.group(1) + " " + cnt.group(1)).split())
            table[(hints, i)] = (int(m.group(1)), int(f["swap_outs"]), int(f["swap_ins"]),
                                 int(f["peak_resident"]) * 4 // 1024,
                                 int(f["hint_frames_freed"]))
    lines = [f"Free-page hint experiment: {GUESTS} guests of {GUEST_MIB} MiB, guest_mem="
             f"{budget}M, each in turn allocates, touches and frees {mib} MiB, then idles",
             f"{'guest':<6} {'hints':<5} {'phase (ticks)':>14} {'swap-outs':>10} {'swap-ins':>9} "
             f"{'peak MiB':>9} {'hinted MiB':>11}"]
    for i in range(GUESTS):
        for hints in ("on", "off"):
            t, so, si, peak, freed = table[(hints, i)]
            lines.append(f"g{i:<5} {hints:<5} {t:>14} {so:>10} {si:>9} {peak:>9} "
                         f"{freed * 4 // 1024:>11}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (OUT / "hints.txt").write_text(text)
    on = sum(table[("on", i)][0] for i in range(GUESTS))
    off = sum(table[("off", i)][0] for i in range(GUESTS))
    rows.append(("hint experiment: total phase time, hints off / on", f"{off / on:.2f}",
                 f"{off} vs {on} ticks (table in build/bench/hints.txt)"))
    return rows


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    memhog = f"build/guest/memhog.elf mem=256M -- mib={MIB} passes={PASSES}"
    bare = passes(run("bare", "build/guest/memhog.elf", f"mib={MIB} passes={PASSES}"))
    results = {}
    for huge in ("on", "off"):
        log = run(f"tide-huge-{huge}", "build/tide.elf32",
                  f"poweroff=qemu stage2_huge={huge}", memhog)
        results[huge] = {
            "passes": passes(log),
            "faults": field(log, "stage2"),  # stage-2 fault exits of the guest
            "exits": field(log, "exits"),
        }
    null = run("tide-nullcall", "build/tide.elf32", "poweroff=qemu",
               "build/guest/nullcall.elf -- calls=20000")
    m = re.search(r"nullcall: \d+ calls, (\d+) ticks per call", null)
    null_ticks = int(m.group(1))

    rows = []
    # Disabled trace points: the same 4 KiB fault path with trace points
    # compiled in (all off) and compiled out.
    for build, kernel in (("compiled in, off", "build/tide.elf32"),
                          ("compiled out", "build/notrace/tide.elf32")):
        log = run("trace-" + build.split()[1].replace(",", ""), kernel,
                  "poweroff=qemu stage2_huge=off", memhog)
        first = passes(log)[0]
        rows.append((f"instructions per 4 KiB fault, trace points {build}",
                     f"{(first - bare[0]) / max(field(log, 'stage2'), 1):.0f}",
                     f"first pass {first}, {field(log, 'stage2')} faults"))
    for huge, size in (("off", "4 KiB"), ("on", "2 MiB")):
        r = results[huge]
        extra = r["passes"][0] - bare[0]
        rows.append((f"instructions per demand fault ({size}, incl. zeroing)",
                     f"{extra / max(r['faults'], 1):.0f}",
                     f"first pass {r['passes'][0]} vs bare {bare[0]}, {r['faults']} faults"))
    for huge in ("off", "on"):
        r = results[huge]
        rows.append((f"exits per MiB touched (stage2_huge={huge})",
                     f"{r['exits'] / MIB:.2f}", f"{r['exits']} exits for {MIB} MiB"))
    rows.append(("null hypercall round trip (instructions)", str(null_ticks),
                 "hypercall 0 -> -ENOSYS, 20000 calls"))
    for huge in ("off", "on"):
        r = results[huge]
        rows.append((f"memhog time under Tide / bare QEMU (stage2_huge={huge})",
                     f"{sum(r['passes']) / sum(bare):.3f}",
                     f"{sum(r['passes'])} vs {sum(bare)} ticks, {PASSES} passes of {MIB} MiB"))

    # Overcommit: one memhog of 32 MiB, 3 passes, with a budget that fits,
    # is 2x and 4x too small; swap in RAM, and (2x) on NVMe.
    touched = 32 * 3
    over = [("fits", "guest_mem=64M swap=ram:64M", False),
            ("2x over", "guest_mem=16M swap=ram:64M", False),
            ("4x over", "guest_mem=8M swap=ram:64M", False),
            ("2x over, NVMe", "guest_mem=16M swap=nvme", True)]
    for label, opts, nvme in over:
        log = run("over-" + label.replace(" ", "").replace(",", "-"), "build/tide.elf32",
                  f"poweroff=qemu stage2_huge=off sample_ms=20 {opts}",
                  "build/guest/memhog.elf mem=48M -- mib=32 passes=3", nvme=nvme)
        ins, outs = field(log, "swap_ins"), field(log, "swap_outs")
        tin, tout = field(log, "swap_in_ticks"), field(log, "swap_out_ticks")
        rows.append((f"swap-ins / swap-outs per MiB touched ({label})",
                     f"{ins / touched:.1f}/{outs / touched:.1f}",
                     f"{ins} in, {outs} out, {touched} MiB touched"))
        if ins and outs:
            rows.append((f"instructions per swap-in / swap-out ({label})",
                         f"{tin // ins}/{tout // outs}",
                         "swap-out includes zero checks and the TLB flush"))

    rows += hint_experiment()
    rows += shadow_paging()

    width = max(len(r[0]) for r in rows)
    lines = [f"Tide benchmark (QEMU TCG -cpu EPYC, -icount shift=0: ticks = instructions)",
             f"{'measure':<{width}}  {'value':>10}  basis"]
    lines += [f"{name:<{width}}  {value:>10}  {basis}" for name, value, basis in rows]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (OUT / "bench.txt").write_text(text)
    (OUT / "bench.csv").write_text("measure,value,basis\n" + "".join(
        f"\"{n}\",{v},\"{b}\"\n" for n, v, b in rows))
    print(f"(written to {OUT / 'bench.txt'} and bench.csv; logs beside them)")


if __name__ == "__main__":
    main()
