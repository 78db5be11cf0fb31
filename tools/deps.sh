#!/bin/sh
# Installs the Debian packages Tide's build, run and tests need, when run as
# root; otherwise prints the exact command to run. Checks by command, file or
# Python module, so it costs nothing when everything is there.
need=""
check() { # package, then a command name, an absolute path or a python:MODULE it provides
	pkg=$1; shift
	for what in "$@"; do
		case $what in
		/*) [ -e "$what" ] || { need="$need $pkg"; return; } ;;
		# python3 on PATH may be another one than Debian's (pyenv, venv); a
		# module either has is enough (tools/tide-trace runs under either)
		python:*) python3 -c "import ${what#python:}" >/dev/null 2>&1 ||
			/usr/bin/python3 -c "import ${what#python:}" >/dev/null 2>&1 ||
			{ need="$need $pkg"; return; } ;;
		*) command -v "$what" >/dev/null 2>&1 || { need="$need $pkg"; return; } ;;
		esac
	done
}
check gcc gcc
check make make
check binutils ld objcopy
check nasm nasm
check clang clang
check python3 python3
check python3-matplotlib python:matplotlib
check qemu-system-x86 qemu-system-x86_64
check grub-common grub-mkrescue
check grub-pc-bin /usr/lib/grub/i386-pc/moddep.lst
check grub-efi-amd64-bin /usr/lib/grub/x86_64-efi/moddep.lst
check xorriso xorriso
check mtools mformat
check ovmf /usr/share/ovmf/OVMF.fd
check bochs bochs
check bochsbios /usr/share/bochs/BIOS-bochs-latest
check vgabios /usr/share/vgabios/vgabios.bin
check bochs-term /usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so.0.0.0
[ -z "$need" ] && exit 0
line="apt-get install -y$need"
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq$need >/dev/null || {
		echo "deps: '$line' failed" >&2; exit 1; }
else
	echo "deps: missing packages; run as root:" >&2
	echo "  sudo apt-get update && sudo $line" >&2
	exit 1
fi
