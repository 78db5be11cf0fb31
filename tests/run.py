#!/usr/bin/env python3
"""Tide's serial-console test runner (Python 3, standard library only).

Usage: python3 tests/run.py [--jobs N] [--profiles p1,p2] [--filter REGEX]
                            [--list] [cases or directories...]

Each tests/**/*.case file is expanded into one run per boot profile (or one
host run for `run:` cases). Runs go in parallel; each prints one line when it
finishes, and the last line is `N passed, N failed[, N skipped]`. The exit
status is 0 only when nothing failed. See tests/README.md for the case format
and the profiles.

Environment:
  TIDE_TEST_VERBOSE=1        print the command and the full serial log of
                             every run (not just the tail of failing ones)
  TIDE_TEST_TIMEOUT_SCALE=F  multiply every timeout by F (slow machines)
  TIDE_TEST_KERNEL32=PATH    kernel for QEMU -kernel (default build/tide.elf32)
  TIDE_TEST_KERNEL64=PATH    kernel for the GRUB ISO (default build/tide.elf)
"""

import argparse
import concurrent.futures
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
BUILD = ROOT / "build" / "tests"
# Multiboot1 32-bit ELF for QEMU -kernel, and Multiboot2 ELF64 for GRUB.
# TIDE_TEST_KERNEL32 / TIDE_TEST_KERNEL64 override them (testing the runner).
KERNEL32 = Path(os.environ.get("TIDE_TEST_KERNEL32") or ROOT / "build" / "tide.elf32")
KERNEL64 = Path(os.environ.get("TIDE_TEST_KERNEL64") or ROOT / "build" / "tide.elf")
MKISO = ROOT / "tools" / "mkiso.sh"
BOCHSRC_IN = TESTS / "bochsrc.in"

POWEROFF_LINE = re.compile(r"tide: power off \(")
TAIL_LINES = 20

OVMF_CANDIDATES = [
    "/usr/share/ovmf/OVMF.fd",
    "/usr/share/qemu/OVMF.fd",
    "/usr/share/OVMF/OVMF.fd",
]
BOCHS_FILES = {  # file the generated bochsrc / Bochs needs -> Debian package
    "/usr/share/bochs/BIOS-bochs-latest": "bochsbios",
    "/usr/share/bochs/VGABIOS-lgpl-latest": "vgabios",
}
BOCHS_TERM_PLUGINS = [
    "/usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so",
    "/usr/lib/bochs/plugins/libbx_term_gui.so",
]

# Boot profiles. kind: qemu-kernel (QEMU -kernel build/tide.elf32),
# qemu-iso (QEMU booting the GRUB ISO), bochs (Bochs booting the GRUB ISO).
# timeout = case timeout * scale + extra (firmware and GRUB boot time).
PROFILES = {
    "qemu-svm":       dict(kind="qemu-kernel", accel="tcg", cpu="EPYC"),
    "qemu-max":       dict(kind="qemu-kernel", accel="tcg", cpu="max"),
    "qemu-plain":     dict(kind="qemu-kernel", accel="tcg", cpu="qemu64,-svm"),
    # SVM without nested paging: paging=auto picks shadow page tables. Only
    # cases that name it run on it (not part of `all`).
    "qemu-svm-nonpt": dict(kind="qemu-kernel", accel="tcg", cpu="EPYC,-npt",
                           explicit=True),
    "qemu-kvm":       dict(kind="qemu-kernel", accel="kvm", cpu="host"),
    "qemu-grub-bios": dict(kind="qemu-iso", accel="tcg", cpu="EPYC", extra=10),
    "qemu-grub-uefi": dict(kind="qemu-iso", accel="tcg", cpu="EPYC",
                           firmware="ovmf", extra=20),
    "bochs-vmx":      dict(kind="bochs", model="corei7_skylake_x", scale=3,
                           extra=15),
    "bochs-svm":      dict(kind="bochs", model="ryzen", scale=3, extra=15),
}
HOST = "host"  # pseudo-profile of `run:` cases

# Longest-first start order: shortens the wall time of a parallel run.
START_ORDER = ["bochs-vmx", "bochs-svm", "qemu-grub-uefi", "qemu-grub-bios",
               HOST, "qemu-svm", "qemu-svm-nonpt", "qemu-max", "qemu-plain", "qemu-kvm"]

VERBOSE = os.environ.get("TIDE_TEST_VERBOSE", "") not in ("", "0")
try:
    TIMEOUT_SCALE = float(os.environ.get("TIDE_TEST_TIMEOUT_SCALE", "1") or 1)
except ValueError:
    TIMEOUT_SCALE = 1.0

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_=>])")
CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def rel(path):
    """Path relative to the repository root when inside it (for messages)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(Path(path).resolve())


# --------------------------------------------------------------------------
# Case files

class CaseError(Exception):
    pass


class Case:
    KEYS = {"profiles", "cmdline", "module", "memory", "timeout", "expect",
            "forbid", "poweroff", "run", "status", "kernel", "nvme"}

    def __init__(self, path):
        self.path = Path(path).resolve()
        self.name = rel(self.path)
        self.profiles_spec = None
        self.cmdline = ""
        self.modules = []   # (repo-relative path, args)
        self.memory = 256
        self.timeout = 60.0
        self.expect = []    # (source text, compiled)
        self.forbid = []
        self.poweroff = "required"
        self.status = "success"  # what Tide must report at power-off
        self.run = None
        self.kernel = None  # repo-relative kernel replacing Tide (qemu-kernel only)
        self.nvme = None    # bytes of an NVMe drive to attach (QEMU only)
        self.parse()

    @property
    def build_dir(self):
        try:
            sub = self.path.relative_to(TESTS)
        except ValueError:
            try:
                sub = self.path.relative_to(ROOT)
            except ValueError:  # a case outside the repository
                sub = Path("_outside", *self.path.parts[1:])
        return BUILD / sub.with_suffix("")

    def parse(self):
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as e:
            raise CaseError(f"cannot read: {e.strerror}")
        seen = set()
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            # Inline comment: whitespace then '#'. In a regex write \# or [#].
            line = re.sub(r"\s+#.*$", "", line)
            key, sep, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            where = f"line {lineno}"
            if not sep or key not in self.KEYS:
                raise CaseError(f"{where}: expected 'key: value' with key one "
                                f"of {', '.join(sorted(self.KEYS))}")
            if key in seen and key not in ("module", "expect", "forbid"):
                raise CaseError(f"{where}: '{key}' given twice")
            seen.add(key)
            if key == "profiles":
                self.profiles_spec = value.split()
            elif key == "cmdline":
                self.cmdline = value
            elif key == "module":
                parts = value.split(None, 1)
                if not parts:
                    raise CaseError(f"{where}: module needs a file")
                self.modules.append((parts[0], parts[1] if len(parts) > 1 else ""))
            elif key in ("memory", "timeout"):
                try:
                    num = float(value)
                    if num <= 0:
                        raise ValueError
                except ValueError:
                    raise CaseError(f"{where}: {key} must be a positive number")
                if key == "memory":
                    self.memory = int(num)
                else:
                    self.timeout = num
            elif key in ("expect", "forbid"):
                try:
                    rx = re.compile(value)
                except re.error as e:
                    raise CaseError(f"{where}: bad regex /{value}/: {e}")
                getattr(self, key).append((value, rx))
            elif key == "poweroff":
                if value not in ("required", "none"):
                    raise CaseError(f"{where}: poweroff must be 'required' or 'none'")
                self.poweroff = value
            elif key == "status":
                if value not in ("success", "failure"):
                    raise CaseError(f"{where}: status must be 'success' or 'failure'")
                self.status = value
            elif key == "nvme":
                m = re.fullmatch(r"(\d+)([KMG]?)", value)
                if not m or int(m.group(1)) == 0:
                    raise CaseError(f"{where}: nvme: a size like 64M")
                self.nvme = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]
            elif key == "kernel":
                if not value:
                    raise CaseError(f"{where}: kernel needs a file")
                self.kernel = value
            elif key == "run":
                try:
                    self.run = shlex.split(value)
                except ValueError as e:
                    raise CaseError(f"{where}: run: {e}")
                if not self.run:
                    raise CaseError(f"{where}: run needs a command")
        if self.run and (self.cmdline or self.modules or self.kernel):
            raise CaseError("'run' cases take no cmdline, module or kernel")
        if not self.run:
            chosen = self.profiles()  # validate now
            other = [p for p in chosen if PROFILES[p]["kind"] != "qemu-kernel"]
            if self.kernel and other:
                raise CaseError(f"kernel: works only on QEMU -kernel profiles, "
                                f"not {', '.join(other)}")

    def profiles(self):
        """The profiles this case asks for (HOST for `run:` cases)."""
        if self.run:
            return [HOST]
        spec = self.profiles_spec or ["all"]
        chosen = []
        includes = [t for t in spec if not t.startswith("-")]
        excludes = [t[1:] for t in spec if t.startswith("-")]
        if not includes:
            includes = ["all"]
        for tok in includes + excludes:
            if tok != "all" and not fnmatch.filter(PROFILES, tok):
                raise CaseError(f"profiles: unknown profile '{tok}' (known: "
                                f"{', '.join(PROFILES)})")
        implicit = [n for n in PROFILES if not PROFILES[n].get("explicit")]
        for tok in includes:
            names = implicit if tok == "all" else \
                [n for n in fnmatch.filter(PROFILES, tok) if n == tok or n in implicit]
            chosen += [n for n in names if n not in chosen]
        for tok in excludes:
            names = list(PROFILES) if tok == "all" else fnmatch.filter(PROFILES, tok)
            chosen = [n for n in chosen if n not in names]
        return chosen


def discover(paths):
    """Case files named by `paths` (files or directories), sorted."""
    found = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += sorted(p.rglob("*.case"))
        elif p.is_file():
            found.append(p)
        else:
            raise SystemExit(f"run.py: no such case or directory: {p}")
    out, seen = [], set()
    for f in found:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


# --------------------------------------------------------------------------
# Environment probes

class Missing(Exception):
    """A tool or firmware file is missing: a FAIL naming the package."""


_probe_lock = threading.Lock()
_kvm_state = None


def need_binary(names, package):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    raise Missing(f"{names[0]} not found: install the Debian package {package}")


def need_file(candidates, package):
    for c in candidates:
        if os.path.isfile(c):
            return c
    raise Missing(f"{candidates[0]} not found: install the Debian package {package}")


def kvm_skip_reason():
    """None when nested KVM works here, else why qemu-kvm is skipped."""
    global _kvm_state
    with _probe_lock:
        if _kvm_state is None:
            _kvm_state = _probe_kvm()
        return _kvm_state or None


def _probe_kvm():
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm not present"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm not accessible"
    try:
        flags = set()
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags.update(line.split(":", 1)[1].split())
    except OSError:
        flags = set()
    ext = "vmx" if "vmx" in flags else "svm" if "svm" in flags else None
    if not ext:
        return "host CPU shows neither vmx nor svm (no nested virtualization)"
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        return None  # the run itself fails, naming the package
    # Quick probe: can KVM create a vCPU that really has the extension?
    cmd = [qemu, "-accel", "kvm", "-cpu", f"host,+{ext},enforce", "-m", "16",
           "-nodefaults", "-display", "none", "-S", "-qmp", "stdio"]
    qmp = '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n'
    try:
        r = subprocess.run(cmd, input=qmp, capture_output=True, text=True,
                           timeout=20, start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"KVM probe failed: {e}"
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        return f"KVM does not expose {ext} to guests: {msg}"
    return ""


# --------------------------------------------------------------------------
# Processes

_procs_lock = threading.Lock()
_procs = set()
_interrupted = threading.Event()


def run_process(cmd, timeout, stdout_path, cwd=None, env=None):
    """Run cmd in its own process group, stdin /dev/null, stdout+stderr to a
    file. Returns (exit status or None on timeout, seconds)."""
    start = time.monotonic()
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd or ROOT,
                                env=env, start_new_session=True)
    with _procs_lock:
        _procs.add(proc)
    try:
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        # Kill the whole group: also on normal exit, for stray children.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    finally:
        with _procs_lock:
            _procs.discard(proc)
    return status, time.monotonic() - start


def kill_all():
    with _procs_lock:
        for p in list(_procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# --------------------------------------------------------------------------
# ISO images (GRUB, Multiboot2)

_iso_locks_lock = threading.Lock()
_iso_locks = {}


def build_iso(iso, cmdline, modules):
    """Build (or reuse) `iso` for KERNEL64 + cmdline + modules. Raises
    RuntimeError with mkiso's output on failure."""
    h = hashlib.sha256()
    h.update(b"module-string-v2")  # bump when the module string format changes
    for f in (MKISO, KERNEL64):
        h.update(f.read_bytes())
    h.update(b"\0" + cmdline.encode())
    for path, args in modules:
        h.update(b"\0" + path.encode() + b"\0" + args.encode() + b"\0")
        h.update((ROOT / path).read_bytes())
    digest = h.hexdigest()
    stamp = Path(str(iso) + ".stamp")
    with _iso_locks_lock:
        lock = _iso_locks.setdefault(str(iso), threading.Lock())
    with lock:
        try:
            if iso.is_file() and stamp.read_text().strip() == digest:
                return
        except OSError:
            pass
        stamp.unlink(missing_ok=True)
        cmd = ["bash", str(MKISO), str(iso), str(KERNEL64), cmdline]
        for path, args in modules:
            # GRUB passes only what follows the file in module2's line; put
            # the image name first, as QEMU's -initrd does, so Tide sees the
            # same module string on every profile.
            cmd += [str(ROOT / path), f"{path} {args}".strip()]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, cwd=ROOT, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("tools/mkiso.sh failed:\n" + (r.stdout + r.stderr).rstrip())
        stamp.write_text(digest + "\n")


# --------------------------------------------------------------------------
# Judging

def read_lines(path):
    """Serial log as clean text lines (no CR, no ANSI escapes)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = []
    for line in text.split("\n"):
        line = ANSI.sub("", line)
        if "\r" in line:
            # A lone CR returns the cursor: keep the last non-empty segment
            # overwrite-wise, which is what a terminal would show.
            segs = [s for s in line.split("\r") if s]
            line = segs[-1] if segs else ""
        lines.append(CTRL.sub("", line))
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def judge_lines(case, lines, need_poweroff):
    """First problem with the log, or None."""
    pos = 0
    for src, rx in case.expect:
        for i in range(pos, len(lines)):
            if rx.search(lines[i]):
                pos = i + 1
                break
        else:
            after = f" after line {pos}" if pos else ""
            return f"expected /{src}/ not found{after}"
    for src, rx in case.forbid:
        for i, line in enumerate(lines):
            if rx.search(line):
                return f"forbidden /{src}/ matched line {i + 1}: {line.strip()[:120]}"
    if need_poweroff and not any(POWEROFF_LINE.search(l) for l in lines):
        return "no 'tide: power off' line"
    return None


# --------------------------------------------------------------------------
# One run

class Result:
    def __init__(self, case, profile, verdict, secs=0.0, reason="", log=None,
                 emu_log=None, cmd=None):
        self.case, self.profile, self.verdict = case, profile, verdict
        self.secs, self.reason, self.log, self.emu_log = secs, reason, log, emu_log
        self.cmd = cmd


def initrd_arg(modules):
    items = []
    for path, args in modules:
        # QEMU passes the file name as given at the start of the module's
        # string: keep it repository-relative (QEMU runs in the repo root).
        s = path + (" " + args if args else "")
        items.append(s.replace(",", ",,"))
    return ",".join(items)


def with_poweroff(cmdline, how):
    if re.search(r"(^|\s)poweroff=", cmdline):
        return cmdline
    return (cmdline + " " if cmdline else "") + f"poweroff={how}"


def run_host(case):
    d = case.build_dir
    d.mkdir(parents=True, exist_ok=True)
    log = d / f"{HOST}.log"
    cmd = list(case.run)
    exe = cmd[0]
    if "/" in exe:
        if not (ROOT / exe).exists():
            return Result(case, HOST, "FAIL", 0, f"{exe} not found (run make?)", log)
        cmd[0] = str(ROOT / exe)
    elif not shutil.which(exe):
        return Result(case, HOST, "FAIL", 0, f"{exe} not found in PATH", log)
    timeout = case.timeout * TIMEOUT_SCALE
    try:
        status, secs = run_process(cmd, timeout, log)
    except OSError as e:
        return Result(case, HOST, "FAIL", 0, f"cannot run {exe}: {e.strerror}", log)
    lines = read_lines(log)
    res = Result(case, HOST, "PASS", secs, "", log, cmd=cmd)
    if status is None:
        res.verdict, res.reason = "FAIL", f"timed out after {timeout:.3g}s"
    elif status != 0:
        res.verdict, res.reason = "FAIL", f"exit status {status}"
    else:
        why = judge_lines(case, lines, need_poweroff=False)
        if why:
            res.verdict, res.reason = "FAIL", why
    return res


def run_boot(case, profile):
    prof = PROFILES[profile]
    kind = prof["kind"]
    d = case.build_dir
    d.mkdir(parents=True, exist_ok=True)
    log = d / f"{profile}.log"
    emu_log = d / f"{profile}.emu.log"
    for stale in (log, emu_log):
        stale.unlink(missing_ok=True)

    def fail(reason):
        return Result(case, profile, "FAIL", 0, reason, log, emu_log)

    if profile == "qemu-kvm":
        why = kvm_skip_reason()
        if why:
            return Result(case, profile, "SKIP", 0, why)
    if case.nvme and kind == "bochs":
        return Result(case, profile, "SKIP", 0, "no NVMe in Bochs")

    try:
        for path, _ in case.modules:
            if not (ROOT / path).is_file():
                return fail(f"module {path} not found (run make?)")
        env = dict(os.environ)
        if kind in ("qemu-kernel", "qemu-iso"):
            qemu = need_binary(["qemu-system-x86_64"], "qemu-system-x86")
            # Another kernel (a test guest on bare QEMU) knows no poweroff=.
            cmdline = case.cmdline if case.kernel else with_poweroff(case.cmdline, "qemu")
            cmd = [qemu, "-accel", prof["accel"], "-cpu", prof["cpu"],
                   "-m", str(case.memory)]
            if kind == "qemu-kernel":
                kernel = ROOT / case.kernel if case.kernel else KERNEL32
                if not kernel.is_file():
                    return fail(f"{rel(kernel)} not found (run make)")
                cmd += ["-kernel", rel(kernel), "-append", cmdline]
                if case.modules:
                    cmd += ["-initrd", initrd_arg(case.modules)]
            else:
                if prof.get("firmware") == "ovmf":
                    cmd += ["-bios", need_file(OVMF_CANDIDATES, "ovmf")]
                if not KERNEL64.is_file():
                    return fail(f"{rel(KERNEL64)} not found (run make)")
                iso = d / "grub-qemu.iso"
                build_iso(iso, cmdline, case.modules)
                cmd += ["-cdrom", rel(iso)]
            cmd += ["-serial", f"file:{rel(log)}", "-display", "none",
                    "-monitor", "none", "-no-reboot",
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
            if case.nvme:
                # a fresh sparse image per run: no data left by an earlier one
                img = d / f"{profile}.nvme.img"
                img.unlink(missing_ok=True)
                with open(img, "wb") as f:
                    f.truncate(case.nvme)
                cmd += ["-drive", f"file={rel(img)},if=none,id=sw,format=raw",
                        "-device", "nvme,serial=tideswap,drive=sw"]
        else:  # bochs
            bochs = need_binary(["bochs-bin", "bochs"], "bochs")
            for f, pkg in BOCHS_FILES.items():
                need_file([f], pkg)
            need_file(BOCHS_TERM_PLUGINS, "bochs-term")
            if not KERNEL64.is_file():
                return fail(f"{rel(KERNEL64)} not found (run make)")
            cmdline = with_poweroff(case.cmdline, "bochs")
            iso = d / "grub-bochs.iso"
            build_iso(iso, cmdline, case.modules)
            rc = d / f"{profile}.bochsrc"
            rc.write_text(string.Template(BOCHSRC_IN.read_text()).substitute(
                BXMODEL=prof["model"], BXMEGS=str(case.memory), BXISO=str(iso),
                BXSERIAL=str(log), BXLOG=str(d / f"{profile}.bochs.log")))
            cont = d / "cont.rc"
            cont.write_text("c\n")
            env["TERM"] = "xterm"
            cmd = [bochs, "-q", "-f", str(rc), "-rc", str(cont)]
    except Missing as e:
        return fail(str(e))
    except RuntimeError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"{e.filename or ''}: {e.strerror}")

    # QEMU runs in the repository root (the kernel and module names it
    # passes to Tide are repository-relative), Bochs in the case's build dir.
    cwd = d if kind == "bochs" else ROOT
    (d / f"{profile}.cmd").write_text(
        f"cd {shlex.quote(str(cwd))} && " + ("TERM=xterm " if kind == "bochs" else "") +
        " ".join(shlex.quote(c) for c in cmd) + " </dev/null\n")
    timeout = (case.timeout * prof.get("scale", 1) + prof.get("extra", 0)) * TIMEOUT_SCALE
    try:
        status, secs = run_process(cmd, timeout, emu_log, cwd=cwd, env=env)
    except OSError as e:
        return fail(f"cannot run {cmd[0]}: {e.strerror}")

    res = Result(case, profile, "PASS", secs, "", log, emu_log, cmd)
    lines = read_lines(log)
    if status is None:
        res.verdict, res.reason = "FAIL", f"timed out after {timeout:.3g}s"
        return res
    why = judge_lines(case, lines, need_poweroff=(case.poweroff == "required"))
    if why:
        res.verdict, res.reason = "FAIL", why
        return res
    if kind.startswith("qemu"):
        # isa-debug-exit: Tide writes 0 (success) or 1 (failure); QEMU exits
        # with (v<<1)|1. Secondary to the log. 0 = QEMU exited otherwise
        # (reset with -no-reboot, poweroff=acpi/halt ...).
        who = case.kernel or "Tide"
        if case.status == "failure" and status != 3:
            res.verdict, res.reason = "FAIL", (f"{who} was expected to report failure through "
                                               f"isa-debug-exit (status 3), QEMU exited {status}")
        elif case.status == "success" and status == 3:
            res.verdict, res.reason = "FAIL", f"{who} reported failure through isa-debug-exit (status 3)"
        elif status not in (0, 1, 3):
            res.verdict, res.reason = "FAIL", f"QEMU exit status {status}"
    return res


def run_one(case, profile):
    if _interrupted.is_set():
        return Result(case, profile, "SKIP", 0, "interrupted")
    try:
        if profile == HOST:
            return run_host(case)
        return run_boot(case, profile)
    except Exception as e:  # a runner bug must not hang or hide the others
        return Result(case, profile, "FAIL", 0, f"runner error: {type(e).__name__}: {e}")


# --------------------------------------------------------------------------
# Reporting

_print_lock = threading.Lock()


def indent(lines):
    return "".join(f"    {l}\n" for l in lines)


def report(res):
    label = f"{res.case.name if hasattr(res.case, 'name') else res.case} [{res.profile}]"
    out = []
    if res.verdict == "PASS":
        out.append(f"PASS {label} {res.secs:.1f}s\n")
    elif res.verdict == "SKIP":
        out.append(f"SKIP {label}: {res.reason}\n")
    else:
        where = f" (log: {rel(res.log)})" if res.log and Path(res.log).exists() else ""
        took = f" {res.secs:.1f}s" if res.cmd else ""
        out.append(f"FAIL {label}{took}: {res.reason}{where}\n")
        if res.log and not VERBOSE:
            lines = read_lines(res.log)
            if lines:
                out.append(indent(lines[-TAIL_LINES:]))
            elif res.emu_log and Path(res.emu_log).is_file():
                emu = read_lines(res.emu_log)
                out.append(f"    (serial log empty; last lines of {rel(res.emu_log)}:)\n")
                out.append(indent(emu[-TAIL_LINES:]))
    if VERBOSE and res.verdict != "SKIP":
        if res.cmd:
            out.append("    $ " + " ".join(shlex.quote(c) for c in res.cmd) + "\n")
        if res.log:
            out.append(f"    --- {rel(res.log)} ---\n")
            out.append(indent(read_lines(res.log)))
        if res.emu_log and Path(res.emu_log).is_file():
            out.append(f"    --- {rel(res.emu_log)} ---\n")
            out.append(indent(read_lines(res.emu_log)))
    with _print_lock:
        sys.stdout.write("".join(out))
        sys.stdout.flush()


class BadCase:
    """Stand-in for a case file that failed to parse."""
    def __init__(self, path):
        self.name = rel(path)


# --------------------------------------------------------------------------

def _sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    signal.signal(signal.SIGTERM, _sigterm)
    ap = argparse.ArgumentParser(
        prog="tests/run.py",
        description="Run Tide's test cases (tests/**/*.case) on emulator profiles.")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                    help="parallel runs (default: number of CPUs)")
    ap.add_argument("--profiles", "-p",
                    help="comma-separated profiles to run (default: each case's own); "
                         f"known: {', '.join(PROFILES)}, {HOST} (run: cases)")
    ap.add_argument("--filter", "-k", help="only cases whose path matches this regex")
    ap.add_argument("--list", action="store_true",
                    help="list the (case, profile) runs and exit")
    ap.add_argument("paths", nargs="*", help="case files or directories (default: tests/)")
    args = ap.parse_args(argv)

    only = None
    if args.profiles:
        only = [p.strip() for p in args.profiles.split(",") if p.strip()]
        bad = [p for p in only if p not in PROFILES and p != HOST]
        if bad:
            ap.error(f"unknown profile(s): {', '.join(bad)}; known: "
                     f"{', '.join(PROFILES)}, {HOST}")
    try:
        filt = re.compile(args.filter) if args.filter else None
    except re.error as e:
        ap.error(f"--filter: {e}")
    explicit = bool(args.paths or args.filter)
    files = discover(args.paths or [TESTS])

    runs, bad_cases = [], []
    for f in files:
        name = rel(f)
        if filt and not filt.search(name):
            continue
        try:
            case = Case(f)
        except CaseError as e:
            bad_cases.append(Result(BadCase(f), "case", "FAIL", 0, str(e)))
            continue
        for prof in case.profiles():
            if only is None or prof in only:
                runs.append((case, prof))
    runs.sort(key=lambda r: START_ORDER.index(r[1]))

    if args.list:
        for case, prof in sorted(runs, key=lambda r: (r[0].name, r[1])):
            print(f"{case.name} [{prof}]")
        return 0

    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for r in bad_cases:
        report(r)
        counts["FAIL"] += 1

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    futures = [pool.submit(run_one, c, p) for c, p in runs]
    try:
        for fut in concurrent.futures.as_completed(futures):
            res = fut.result()
            report(res)
            counts[res.verdict] += 1
    except KeyboardInterrupt:
        _interrupted.set()
        kill_all()
        for f in futures:
            f.cancel()
        pool.shutdown(wait=True)
        sys.stdout.write("interrupted\n")
        return 130
    pool.shutdown(wait=True)

    if not runs and not bad_cases:
        sys.stderr.write("run.py: no test runs selected\n")
    summary = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["SKIP"]:
        summary += f", {counts['SKIP']} skipped"
    print(summary, flush=True)
    if counts["FAIL"]:
        return 1
    if explicit and not runs and not bad_cases:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
