; The first code that runs: 32-bit protected mode, paging off, as both
; Multiboot protocols leave the CPU (EAX = loader magic, EBX = info block).
;
; It zeroes .bss, checks that the CPU has long mode, builds temporary page
; tables that identity-map the first 4 GiB (where the kernel, the boot info
; and the modules lie) and map the same 4 GiB at the direct-map base, enters
; long mode and calls kernel_main(magic, info). arch/x86/paging.c replaces
; these tables with the final ones as soon as the memory map is known.
;
; Under UEFI, GRUB may enter with EFER.NXE already set; we set every control
; register and EFER bit we depend on explicitly instead of trusting them.

%include "arch/x86/layout.inc"

extern __bss_start, __bss_end

section .boot.text progbits alloc exec nowrite
bits 32
global _start32
_start32:
	cli
	cld
	mov esi, eax			; keep the loader magic
	mov edi, ebx			; and the info block address

	; zero .bss (the early stack and page tables live there)
	push edi
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb
	pop edi

	mov esp, boot_stack_top

	; long mode needs CPUID leaf 0x80000001 EDX bit 29
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode
	mov ebp, edx			; bit 20 = NX

	; PML4[0] and PML4[256] -> boot_pdpt; boot_pdpt[0..3] -> boot_pd[0..3]
	mov eax, boot_pdpt
	or eax, PTE_P | PTE_W
	mov [boot_pml4], eax
	mov [boot_pml4 + 256 * 8], eax
	mov ecx, 0
.fill_pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, PTE_P | PTE_W
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .fill_pdpt

	; 2048 2 MiB entries covering 0-4 GiB
	mov ecx, 0
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [boot_pd + ecx * 8], eax
	mov eax, ecx
	shr eax, 11			; bits 32+ of the address
	mov [boot_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jb .fill_pd

	; CR4: PAE only (PGE, OSFXSR etc. are set later from C)
	mov eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax

	; EFER: long mode, and NX exactly when the CPU has it
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	and eax, ~EFER_NXE
	test ebp, 1 << 20
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr

	mov eax, CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:.long_mode

.no_long_mode:
	mov esi, no_long_mode_msg
.print:
	lodsb
	test al, al
	jz .halt
	mov ah, al
	mov dx, 0x3fd			; wait for the transmitter
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, 0x3f8
	mov al, ah
	out dx, al
	jmp .print
.halt:
	cli
	hlt
	jmp .halt

bits 64
.long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp			; terminates frame-pointer backtraces
	mov eax, esi			; kernel_main(magic, info): rdi, rsi
	mov esi, edi
	mov edi, eax
	extern kernel_main
	call kernel_main
.hang:
	cli
	hlt
	jmp .hang

section .boot.data progbits alloc noexec write
align 8
no_long_mode_msg: db "tide: this CPU has no long mode (x86-64); halting", 13, 10, 0
align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff		; 0x08: 64-bit code
	dq 0x00cf92000000ffff		; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dd boot_gdt

section .bss
align 4096
; The boot stack, with an unmapped guard page below it in the final page
; tables (arch/x86/paging.c) so that an overflow faults instead of silently
; overwriting whatever lies below.
global boot_stack_guard, boot_stack_top
boot_stack_guard: resb 4096
boot_stack: resb KERNEL_STACK_SIZE
boot_stack_top:

align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd: resb 4096 * 4
