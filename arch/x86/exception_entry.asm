; Entry points for the 32 CPU exceptions and the 224 interrupt vectors.
; Each one makes the stack look the same (a dummy error code where the CPU
; pushes none, then the vector), the
; common path saves the general registers as a struct regs (arch/x86/regs.h)
; and calls exception_handler(regs). If the handler returns (a fixup was
; found), the registers are restored and IRETQ resumes the interrupted code.

section .text
bits 64

%macro EXCEPTION_NOERR 1
exception_entry_%1:
	push 0
	push %1
	jmp exception_common
%endmacro

%macro EXCEPTION_ERR 1
exception_entry_%1:
	push %1
	jmp exception_common
%endmacro

; vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30
EXCEPTION_NOERR 0
EXCEPTION_NOERR 1
EXCEPTION_NOERR 2
EXCEPTION_NOERR 3
EXCEPTION_NOERR 4
EXCEPTION_NOERR 5
EXCEPTION_NOERR 6
EXCEPTION_NOERR 7
EXCEPTION_ERR 8
EXCEPTION_NOERR 9
EXCEPTION_ERR 10
EXCEPTION_ERR 11
EXCEPTION_ERR 12
EXCEPTION_ERR 13
EXCEPTION_ERR 14
EXCEPTION_NOERR 15
EXCEPTION_NOERR 16
EXCEPTION_ERR 17
EXCEPTION_NOERR 18
EXCEPTION_NOERR 19
EXCEPTION_NOERR 20
EXCEPTION_ERR 21
EXCEPTION_NOERR 22
EXCEPTION_NOERR 23
EXCEPTION_NOERR 24
EXCEPTION_NOERR 25
EXCEPTION_NOERR 26
EXCEPTION_NOERR 27
EXCEPTION_NOERR 28
EXCEPTION_ERR 29
EXCEPTION_ERR 30
EXCEPTION_NOERR 31

; vectors 32-255: external interrupts, no error code
%assign i 32
%rep 224
exception_entry_%+i:
	push 0
	push i
	jmp exception_common
%assign i i+1
%endrep

extern exception_handler
exception_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	; the CPU aligns RSP to 16 before pushing the frame; 22 pushes keep
	; it 16-byte aligned for the call (5 frame + 2 + 15 = 22 quadwords)
	call exception_handler
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16			; vector and error code
	iretq

section .rodata
global exception_entries
exception_entries:
%assign i 0
%rep 256
	dq exception_entry_%+i
%assign i i+1
%endrep
