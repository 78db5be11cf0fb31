; Ring-3 trampoline for user.c. user_enter(fn) saves the callee-saved
; registers and ESP, IRETs to ring 3 on the user stack, calls fn there and
; comes back with INT 0x80, whose DPL-3 gate lands in user_return on the TSS
; ring-0 stack; user_return reloads the saved ESP and returns from
; user_enter as if it were an ordinary call.

SEL_KDATA		equ 0x10
SEL_UCODE		equ 0x1b
SEL_UDATA		equ 0x23
USER_RETURN_VECTOR	equ 0x80

section .text
bits 32
global user_enter, user_return

user_enter:
	push ebp
	push ebx
	push esi
	push edi
	mov [saved_esp], esp
	mov ecx, [esp + 20]		; fn
	mov ax, SEL_UDATA		; ring 3 may not keep ring-0 data selectors
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	push SEL_UDATA			; SS
	push user_stack_top		; ESP
	pushfd				; IF stays 0, IOPL 0
	push SEL_UCODE			; CS
	push .ring3			; EIP
	iretd
.ring3:
	xor ebp, ebp
	call ecx
	int USER_RETURN_VECTOR
	ud2				; not reached

user_return:
	mov ax, SEL_KDATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov esp, [saved_esp]		; SS is ring-0 data already (TSS SS0)
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

section .bss
alignb 4
saved_esp:
	resd 1
alignb 16
user_stack:
	resb 4096
user_stack_top:
