; Multiboot1 and Multiboot2 headers. Both live in .multiboot, which the
; linker script places first in the image so that they fall within the first
; 8 KiB (Multiboot1) and 32 KiB (Multiboot2) of the file.
;
; Multiboot1 is what QEMU -kernel loads (from build/tide.elf32, a 32-bit ELF
; copy of the kernel); Multiboot2 is what GRUB's `multiboot2` loads, BIOS or
; UEFI. Both enter boot/entry.asm at _start32 in 32-bit protected mode.

section .multiboot
align 8
mb1_header:
	MB1_MAGIC	equ 0x1BADB002
	MB1_FLAGS	equ (1 << 0) | (1 << 1) ; modules page aligned, memory info
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)

align 8
mb2_header:
	MB2_MAGIC	equ 0xe85250d6
	MB2_ARCH_I386	equ 0
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	; information request: cmdline, modules, basic meminfo, mmap,
	; ACPI RSDP copies, EFI memory map (all optional for the loader)
align 8
	dw 1, 1			; type 1: information request, flags: optional
	dd 8 + 4 * 7
	dd 1, 3, 4, 6, 14, 15, 17

	; module alignment: page-align modules
align 8
	dw 6, 0
	dd 8

	; end tag
align 8
	dw 0, 0
	dd 8
mb2_header_end:
