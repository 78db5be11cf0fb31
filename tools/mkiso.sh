#!/usr/bin/env bash
# Build a GRUB rescue ISO (BIOS + UEFI) that boots Tide via Multiboot2.
#
#   tools/mkiso.sh OUT.iso KERNEL_ELF64 "CMDLINE" [MODULE_FILE "MODULE_ARGS"]...
#
# The ISO holds /boot/tide.elf, /boot/mod/<name> per module and a grub.cfg
# that talks over COM1 (115200) and boots at once:
#   multiboot2 /boot/tide.elf CMDLINE
#   module2 /boot/mod/<name> MODULE_ARGS     (one per module)
#   boot
# Each word of CMDLINE / MODULE_ARGS is single-quoted in grub.cfg, so GRUB
# passes it through verbatim (no $-expansion); GRUB joins the words with
# single spaces. Quotes and backslashes inside a word reach the kernel
# backslash-escaped (GRUB's grub_create_loader_cmdline does that).
#
# Quiet on success. grub-mkrescue's output goes to OUT.iso.log; on failure
# that log is printed to stderr and the exit status is non-zero.
# The ISO is written to a temporary name and renamed, so a reader never
# sees a half-written image.
set -euo pipefail

usage() {
    echo "usage: $0 OUT.iso KERNEL_ELF64 \"CMDLINE\" [MODULE_FILE \"MODULE_ARGS\"]..." >&2
    exit 2
}

[ $# -ge 3 ] || usage
out=$1 kernel=$2 cmdline=$3
shift 3
[ $(( $# % 2 )) -eq 0 ] || usage

for tool in grub-mkrescue xorriso mformat; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        case $tool in
            grub-mkrescue) pkg="grub-common (plus grub-pc-bin and grub-efi-amd64-bin)" ;;
            xorriso) pkg=xorriso ;;
            mformat) pkg=mtools ;;
        esac
        echo "mkiso: $tool not found: install the Debian package $pkg" >&2
        exit 1
    fi
done
for dir in /usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi; do
    if [ ! -d "$dir" ]; then
        case $dir in
            *i386-pc) pkg=grub-pc-bin ;;
            *) pkg=grub-efi-amd64-bin ;;
        esac
        echo "mkiso: $dir missing: install the Debian package $pkg" >&2
        exit 1
    fi
done
[ -f "$kernel" ] || { echo "mkiso: kernel '$kernel' not found" >&2; exit 1; }

# Single-quote one word for GRUB's shell-like grub.cfg syntax.
gquote() {
    local s=$1
    printf "'%s'" "${s//\'/\'\\\'\'}"
}

# Quote every whitespace-separated word of a string, joined by spaces.
gwords() {
    local w first=1
    local -a words
    read -r -a words <<<"$1" || true
    for w in "${words[@]+"${words[@]}"}"; do
        [ $first -eq 1 ] || printf ' '
        first=0
        gquote "$w"
    done
}

outdir=$(dirname -- "$out")
mkdir -p -- "$outdir"
stage=$(mktemp -d "${TMPDIR:-/tmp}/tide-iso.XXXXXX")
trap 'rm -rf -- "$stage"' EXIT
mkdir -p "$stage/root/boot/grub" "$stage/root/boot/mod"
cp -- "$kernel" "$stage/root/boot/tide.elf"

cfg=$stage/root/boot/grub/grub.cfg
{
    echo 'serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1'
    echo 'terminal_input serial'
    echo 'terminal_output serial'
    # Not timeout_style=hidden: it costs 3 s (guest time: 4 s of Bochs).
    echo 'set timeout=0'
    echo 'menuentry "Tide" {'
    quoted=$(gwords "$cmdline")
    printf '    multiboot2 /boot/tide.elf%s\n' "${quoted:+ $quoted}"
} >"$cfg"

declare -A used=()
i=0
while [ $# -gt 0 ]; do
    mod=$1 margs=$2
    shift 2
    [ -f "$mod" ] || { echo "mkiso: module '$mod' not found" >&2; exit 1; }
    base=$(basename -- "$mod")
    base=${base//[^A-Za-z0-9._-]/_}
    name=$base
    # The same file may be given twice (different args): copy it once.
    # Different files with the same base name get an index prefix.
    if [ -n "${used[$name]+x}" ] && [ "${used[$name]}" != "$(realpath -- "$mod")" ]; then
        name="$i-$base"
    fi
    if [ -z "${used[$name]+x}" ]; then
        cp -- "$mod" "$stage/root/boot/mod/$name"
        used[$name]=$(realpath -- "$mod")
    fi
    quoted=$(gwords "$margs")
    printf '    module2 /boot/mod/%s%s\n' "$name" "${quoted:+ $quoted}" >>"$cfg"
    i=$((i + 1))
done
{
    echo '    boot'
    echo '}'
} >>"$cfg"

log=$out.log
tmp_iso=$out.tmp.$$
# Only what grub.cfg needs: much smaller and faster than every module, font,
# theme and locale (0.3 s). EFI GRUB loads every part_* module on its own and
# prints "error: file ... not found" for each one missing, hence all of them.
mods="normal configfile serial terminal multiboot2 boot echo test iso9660 part_acorn part_amiga part_apple part_bsd part_dfly part_dvh part_gpt part_msdos part_plan part_sun part_sunpc"
if ! grub-mkrescue --output="$tmp_iso" \
        --install-modules="$mods" --modules="serial terminal" \
        --fonts= --locales= --themes= --compress=no \
        "$stage/root" >"$log" 2>&1; then
    echo "mkiso: grub-mkrescue failed (log: $log):" >&2
    sed 's/^/    /' "$log" >&2
    rm -f -- "$tmp_iso"
    exit 1
fi
cp -- "$cfg" "$out.grub.cfg"
mv -f -- "$tmp_iso" "$out"
