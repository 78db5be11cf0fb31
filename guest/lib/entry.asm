; Multiboot1 header and entry point of every test guest. The image is a
; plain ELF32 linked at 1 MiB (guest.ld): a loader that knows ELF (QEMU
; -kernel, Tide) loads it by its program headers, so the header asks for no
; a.out kludge (flag 16 clear), only page-aligned modules and memory info.
;
; The loader enters _start in 32-bit protected mode, paging off, EAX =
; 0x2BADB002, EBX = the Multiboot info. We clear .bss (a loader need not),
; switch to our stack and call guest_lib_init(magic, mbi), then
; guest_main(magic, mbi), and exit() with what guest_main returns.

MB1_MAGIC	equ 0x1BADB002
MB1_FLAGS	equ (1 << 0) | (1 << 1)	; page-aligned modules, memory info

section .multiboot progbits alloc exec nowrite align=4
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)

section .text
bits 32
global _start
extern guest_lib_init, guest_main, exit, __bss_start, __bss_end

_start:
	cli
	cld
	mov esi, eax			; magic; EBX (info) survives rep stosb
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb
	mov esp, boot_stack_top
	xor ebp, ebp			; ends frame-pointer walks

	; cdecl callees may scribble on their argument slots: push them twice
	push ebx
	push esi
	call guest_lib_init
	add esp, 8
	push ebx
	push esi
	call guest_main
	add esp, 8
	push eax
	call exit
.hang:
	cli
	hlt
	jmp .hang

section .bss
alignb 16
boot_stack:
	resb 16384
boot_stack_top:
