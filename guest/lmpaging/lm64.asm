; The 64-bit half of lmpaging (see lmpaging.c for the whole picture).
;
; The guest's C code is the ordinary 32-bit build: once long mode is on it
; keeps running in compatibility mode (CS = the 32-bit ring-0 code segment,
; L = 0), which is enough for printf, exit and writing its own page tables
; below 4 GiB. Everything a check measures happens here, in 64-bit mode:
; the C code fills a struct lm_req and far-calls lm_op through the 64-bit
; code segment; lm_op does the one operation (a load, a store, a call into
; a page, INVLPG, MOV to CR3, a probe of 64-bit execution) and far-returns.
; NASM assembles BITS 64 into this ELF32 object; every symbol lies below
; 2 GiB, so absolute disp32 addresses (sign-extended) are exact.
;
; The 32 exception entries are 64-bit interrupt-gate targets (lmpaging.c
; builds the IDT). While lm_op is armed, an exception is recorded in the
; request (vector, error code, CR2, RIP) and IRETQ resumes at lm_op_done on
; the stack lm_op started with, so the operation simply ends; otherwise it
; is a bug: the entry far-returns to compatibility mode and calls
; lm_unexpected() (C: prints and exits 2).

SEL_KCODE	equ 0x08		; 32-bit ring-0 code (guest/lib/desc.h)

; struct lm_req (lmpaging.c checks these offsets)
REQ_OP		equ 0
REQ_VA		equ 8
REQ_VAL		equ 16
REQ_VECTOR	equ 24
REQ_ERR		equ 28
REQ_CR2		equ 32
REQ_RIP		equ 40

OP_READ		equ 0			; val = [va] (64 bits)
OP_WRITE	equ 1			; [va] = val
OP_EXEC		equ 2			; val = RAX after CALL va
OP_INVLPG	equ 3			; INVLPG [va]
OP_LOAD_CR3	equ 4			; CR3 = va
OP_PROBE	equ 5			; val = va rotated by 32, err = CS
OP_CR8		equ 6			; CR8 = val, then val = CR8

section .text
bits 64

global lm_op, lm_exc_entries, lm_unexpected_info
extern lm_unexpected

; Far-called from compatibility mode with EAX = struct lm_req *; returns
; with RETF (32-bit operand size: the EIP and CS the 32-bit LCALL pushed).
; Preserves every register but EAX and the flags.
lm_op:
	mov esp, esp			; RSP[63:32] are undefined after compat mode
	mov eax, eax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	mov rbx, rax
	mov [cur_req], rax
	mov [saved_rsp], rsp
	mov dword [rbx + REQ_VECTOR], -1
	mov rdi, [rbx + REQ_VA]
	mov rsi, [rbx + REQ_VAL]
	mov ecx, [rbx + REQ_OP]
	mov byte [armed], 1
	cmp ecx, OP_READ
	je .read
	cmp ecx, OP_WRITE
	je .write
	cmp ecx, OP_EXEC
	je .exec
	cmp ecx, OP_INVLPG
	je .invlpg
	cmp ecx, OP_LOAD_CR3
	je .load_cr3
	cmp ecx, OP_PROBE
	je .probe
	cmp ecx, OP_CR8
	je .cr8
	ud2				; an unknown op: reported as #UD
.read:
	mov rax, [rdi]
	mov [rbx + REQ_VAL], rax
	jmp lm_op_done
.write:
	mov [rdi], rsi
	jmp lm_op_done
.exec:
	call rdi
	mov [rbx + REQ_VAL], rax
	jmp lm_op_done
.invlpg:
	invlpg [rdi]
	jmp lm_op_done
.load_cr3:
	mov cr3, rdi
	jmp lm_op_done
.cr8:
	mov cr8, rsi
	mov rax, cr8
	mov [rbx + REQ_VAL], rax
	jmp lm_op_done
.probe:
	mov rax, rdi
	rol rax, 32			; in compatibility mode REX.W would be DEC
	mov [rbx + REQ_VAL], rax
	mov ax, cs
	movzx eax, ax
	mov [rbx + REQ_ERR], eax
	; fall through
lm_op_done:				; also where a caught exception resumes
	mov byte [armed], 0
	mov rsp, [saved_rsp]
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	retf

%macro EXC_NOERR 1
exc_%1:
	push 0
	push %1
	jmp exc_common
%endmacro

%macro EXC_ERR 1
exc_%1:
	push %1
	jmp exc_common
%endmacro

; vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30
EXC_NOERR 0
EXC_NOERR 1
EXC_NOERR 2
EXC_NOERR 3
EXC_NOERR 4
EXC_NOERR 5
EXC_NOERR 6
EXC_NOERR 7
EXC_ERR 8
EXC_NOERR 9
EXC_ERR 10
EXC_ERR 11
EXC_ERR 12
EXC_ERR 13
EXC_ERR 14
EXC_NOERR 15
EXC_NOERR 16
EXC_ERR 17
EXC_NOERR 18
EXC_NOERR 19
EXC_NOERR 20
EXC_ERR 21
EXC_NOERR 22
EXC_NOERR 23
EXC_NOERR 24
EXC_NOERR 25
EXC_NOERR 26
EXC_NOERR 27
EXC_NOERR 28
EXC_ERR 29
EXC_ERR 30
EXC_NOERR 31

; The stack: [rsp] vector, +8 error code, +16 RIP, +24 CS, +32 RFLAGS,
; +40 RSP, +48 SS.
exc_common:
	cmp byte [armed], 0
	je .unexpected
	push rax
	push rbx			; now the frame starts at rsp + 16
	mov rbx, [cur_req]
	mov eax, [rsp + 16]
	mov [rbx + REQ_VECTOR], eax
	mov eax, [rsp + 24]
	mov [rbx + REQ_ERR], eax
	mov rax, cr2
	mov [rbx + REQ_CR2], rax
	mov rax, [rsp + 32]
	mov [rbx + REQ_RIP], rax
	mov byte [armed], 0
	mov eax, lm_op_done
	mov [rsp + 32], rax		; RIP
	mov rax, [saved_rsp]
	mov [rsp + 56], rax		; RSP
	pop rbx
	pop rax
	add rsp, 16
	iretq

.unexpected:
	mov rax, [rsp]
	mov [lm_unexpected_info + 0], rax	; vector
	mov rax, [rsp + 8]
	mov [lm_unexpected_info + 8], rax	; error code
	mov rax, [rsp + 16]
	mov [lm_unexpected_info + 16], rax	; RIP
	mov rax, [rsp + 24]
	mov [lm_unexpected_info + 24], rax	; CS
	mov rax, [rsp + 40]
	mov [lm_unexpected_info + 32], rax	; RSP
	mov rax, cr2
	mov [lm_unexpected_info + 40], rax
	mov esp, esp
	and rsp, -16
	push SEL_KCODE
	mov eax, .compat
	push rax
	o64 retf			; to compatibility mode

bits 32
.compat:
	call lm_unexpected		; does not return
.hang:
	cli
	hlt
	jmp .hang

section .rodata
lm_exc_entries:
%assign i 0
%rep 32
	dd exc_ %+ i
%assign i i + 1
%endrep

section .bss
alignb 8
cur_req:
	resq 1
saved_rsp:
	resq 1
lm_unexpected_info:			; vector, error, RIP, CS, RSP, CR2
	resq 6
armed:
	resb 1
